namespace ZtGateway.Policy.Configuration;

/// <summary>
/// The <c>gateway.sharedState:</c> section: the Redis (or Redis-protocol server: Valkey, Azure Cache for Redis, Garnet)
/// that every gateway of a deployment shares continuous-evaluation state through. Absent: each process keeps its own
/// state in <see cref="GatewaySettings.StateDir"/> alone.
/// </summary>
public sealed record SharedStateSettings
{
    /// <summary>The default <see cref="Prefix"/>.</summary>
    public const string DefaultPrefix = "ztgw";

    /// <summary>
    /// A StackExchange.Redis configuration string: one or more <c>host[:port]</c> endpoints and <c>name=value</c>
    /// options (<c>user=</c>, <c>password=</c>, <c>ssl=true</c>, ...), comma-separated. Required. It may hold a
    /// password: it is never printed (see <see cref="ToString"/>).
    /// </summary>
    public required string Redis { get; init; }

    /// <summary>Prefix of every key and channel, so deployments can share one Redis. Defaults to <c>ztgw</c>.</summary>
    public string Prefix { get; init; } = DefaultPrefix;

    /// <summary>Where <c>sharedState</c> is written, for messages about it.</summary>
    public SourceLocation? Location { get; init; }

    /// <summary>The endpoints and prefix only: the configuration string may hold a password.</summary>
    public override string ToString() => $"SharedStateSettings {{ Redis = {RedactedRedis}, Prefix = {Prefix} }}";

    /// <summary>The configuration string with the value of <c>password=</c> replaced by <c>*****</c>.</summary>
    public string RedactedRedis => string.Join(',', Redis.Split(',').Select(part =>
        part.TrimStart().StartsWith("password=", StringComparison.OrdinalIgnoreCase) ? "password=*****" : part));
}
