using ZtGateway.Enforcement.Resilience;

namespace ZtGateway.Hosting;

/// <summary>How to start a gateway process.</summary>
internal sealed record GatewayHostOptions
{
    /// <summary>Path of gateway.yaml. Required.</summary>
    public required string ConfigPath { get; init; }

    /// <summary>The segment whose listener to open, or <c>all</c> (the default).</summary>
    public string Segment { get; init; } = "all";

    /// <summary>Defaults to <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Watch the policy files and reload on change. Defaults to true.</summary>
    public bool WatchForChanges { get; init; } = true;

    /// <summary>How often the policy files are checked for change. Defaults to 500 ms.</summary>
    public TimeSpan WatchInterval { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Handler for identity-provider metadata and key fetches; null uses a default one.</summary>
    public HttpMessageHandler? Backchannel { get; init; }

    /// <summary>Upstream timeout, retries and circuit breakers. Defaults to <see cref="UpstreamResilienceOptions"/>' defaults.</summary>
    public UpstreamResilienceOptions Resilience { get; init; } = new();

    /// <summary>How often the shared state is read without an announcement (<c>gateway.sharedState</c>). Defaults to 1 second.</summary>
    public TimeSpan? SharedStatePoll { get; init; }

    /// <summary>Entries beyond which the shared state's log is compacted. Defaults to 10,000.</summary>
    public long? SharedStateCompactAbove { get; init; }

    /// <summary>Where logs go; null logs to the console.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }
}
