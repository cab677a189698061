using ZtGateway.Policy.Configuration;

namespace ZtGateway.Policy.Engine;

/// <summary>Whether a caller is a person or a service.</summary>
public enum PrincipalKind
{
    /// <summary>A person.</summary>
    User,

    /// <summary>A service (SPIFFE id or client-credentials client).</summary>
    Workload,
}

/// <summary>A caller whose token has been verified. Built by the host from verified claims only.</summary>
public sealed record Principal
{
    /// <summary>User or workload.</summary>
    public required PrincipalKind Kind { get; init; }

    /// <summary>The token's <c>sub</c>.</summary>
    public required string Subject { get; init; }

    /// <summary>The token's <c>iss</c>.</summary>
    public string Issuer { get; init; } = string.Empty;

    /// <summary>For workloads: the SPIFFE <c>sub</c>, else <c>azp</c>/<c>client_id</c>/<c>appid</c>.</summary>
    public string? WorkloadId { get; init; }

    /// <summary>The <c>groups</c> claim.</summary>
    public IReadOnlyList<string> Groups { get; init; } = [];

    /// <summary>The <c>roles</c> claim.</summary>
    public IReadOnlyList<string> Roles { get; init; } = [];

    /// <summary>The <c>amr</c> claim (RFC 8176).</summary>
    public IReadOnlyList<string> Amr { get; init; } = [];

    /// <summary>The <c>acr</c> claim.</summary>
    public string? Acr { get; init; }

    /// <summary>The <c>auth_time</c> claim.</summary>
    public DateTimeOffset? AuthTime { get; init; }

    /// <summary>The <c>iat</c> claim.</summary>
    public DateTimeOffset? IssuedAt { get; init; }

    /// <summary>The <c>sid</c> claim.</summary>
    public string? SessionId { get; init; }
}

/// <summary>A verified device-posture assertion.</summary>
public sealed record DevicePosture
{
    /// <summary>The assertion's <c>sub</c>.</summary>
    public required string DeviceId { get; init; }

    /// <summary>The device's home segment (<c>segment</c> claim).</summary>
    public required string Segment { get; init; }

    /// <summary><c>compliant</c> claim.</summary>
    public bool Compliant { get; init; }

    /// <summary><c>managed</c> claim.</summary>
    public bool Managed { get; init; }

    /// <summary><c>risk</c> claim.</summary>
    public RiskLevel Risk { get; init; } = RiskLevel.High;
}
