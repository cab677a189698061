namespace ZtGateway.Policy.Configuration;

/// <summary>A whole loaded, validated policy: gateway.yaml and every segment file. Immutable.</summary>
public sealed record PolicySet
{
    /// <summary>The gateway file.</summary>
    public required GatewayConfig Gateway { get; init; }

    /// <summary>Segments by name (ordinal).</summary>
    public required IReadOnlyDictionary<string, SegmentConfig> Segments { get; init; }

    /// <summary>Lower-case hex SHA-256 over the loaded policy files (names and bytes, in a fixed order).</summary>
    public required string Version { get; init; }
}
