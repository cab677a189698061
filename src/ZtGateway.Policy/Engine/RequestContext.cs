using System.Net;

namespace ZtGateway.Policy.Engine;

/// <summary>What the host learned about the caller's token before asking for a decision.</summary>
public enum TokenStatus
{
    /// <summary>Verified; <see cref="RequestContext.Principal"/> is set.</summary>
    Valid,

    /// <summary>No bearer token was sent.</summary>
    Missing,

    /// <summary>Malformed, bad signature, wrong issuer or audience, refused algorithm, unknown key.</summary>
    Invalid,

    /// <summary>Past <c>exp</c>.</summary>
    Expired,

    /// <summary>Revoked by a signal after it was issued.</summary>
    Revoked,
}

/// <summary>What the host learned about the device-posture assertion.</summary>
public enum DeviceStatus
{
    /// <summary>None was sent.</summary>
    Absent,

    /// <summary>Verified; <see cref="RequestContext.Device"/> is set.</summary>
    Verified,

    /// <summary>Sent but failed verification (signature, issuer, audience, lifetime, user binding).</summary>
    Invalid,
}

/// <summary>
/// How the caller's credential is tied to the connection it came on (RFC 8705): what <c>boundToken: true</c> asks for.
/// </summary>
public enum CredentialBinding
{
    /// <summary>A bearer token: whoever holds it can use it.</summary>
    None,

    /// <summary>A token whose <c>cnf</c> <c>x5t#S256</c> is the thumbprint of the client certificate the connection presented.</summary>
    BoundToken,

    /// <summary>The caller was authenticated by its client certificate (an X.509-SVID), which proves possession of its key.</summary>
    Certificate,
}

/// <summary>
/// One request as the decision engine sees it: no HTTP types, only verified facts. The host builds it;
/// <c>explain</c> and <c>test</c> build it from command-line attributes.
/// </summary>
public sealed record RequestContext
{
    /// <summary>The destination segment: the segment whose listener received the request.</summary>
    public required string Segment { get; init; }

    /// <summary>HTTP method, upper case.</summary>
    public required string Method { get; init; }

    /// <summary>Request path as the listener decoded it (dot segments resolved, <c>%2F</c> left encoded).</summary>
    public required string Path { get; init; }

    /// <summary>
    /// The request target exactly as received (before any decoding), or null where there is none (<c>explain</c>,
    /// <c>test</c>). Checked with <see cref="Path"/> by <see cref="RequestPath.IsUnambiguous"/>.
    /// </summary>
    public string? RawTarget { get; init; }

    /// <summary>Client address (socket peer, or the trusted-proxy-resolved one).</summary>
    public IPAddress? ClientAddress { get; init; }

    /// <summary>Token verification outcome.</summary>
    public TokenStatus Token { get; init; } = TokenStatus.Missing;

    /// <summary>The verified caller when <see cref="Token"/> is <see cref="TokenStatus.Valid"/>.</summary>
    public Principal? Principal { get; init; }

    /// <summary>Device assertion verification outcome.</summary>
    public DeviceStatus DeviceStatus { get; init; } = DeviceStatus.Absent;

    /// <summary>The verified device when <see cref="DeviceStatus"/> is <see cref="DeviceStatus.Verified"/>.</summary>
    public DevicePosture? Device { get; init; }

    /// <summary>The principal is quarantined (set by the host from signals or the admin API).</summary>
    public bool PrincipalQuarantined { get; init; }

    /// <summary>The device is quarantined.</summary>
    public bool DeviceQuarantined { get; init; }

    /// <summary>A signal asked this principal's tokens to step up (assurance-level change).</summary>
    public bool StepUpRequired { get; init; }

    /// <summary>
    /// How the verified credential is bound to the connection; <see cref="CredentialBinding.None"/> (the default) for a
    /// bearer token. Only meaningful with a <see cref="Principal"/>.
    /// </summary>
    public CredentialBinding Binding { get; init; }
}
