namespace ZtGateway.Policy.Engine;

/// <summary>Machine-readable outcome of a decision (docs/design.md section 5). Used alike in responses, audit, metrics and traces.</summary>
public enum ReasonCode
{
    /// <summary><c>allowed</c></summary>
    Allowed,

    /// <summary><c>route-not-found</c></summary>
    RouteNotFound,

    /// <summary><c>token-missing</c></summary>
    TokenMissing,

    /// <summary><c>token-invalid</c></summary>
    TokenInvalid,

    /// <summary><c>token-expired</c></summary>
    TokenExpired,

    /// <summary><c>token-revoked</c></summary>
    TokenRevoked,

    /// <summary><c>mfa-required</c></summary>
    MfaRequired,

    /// <summary><c>auth-too-old</c></summary>
    AuthTooOld,

    /// <summary><c>acr-insufficient</c></summary>
    AcrInsufficient,

    /// <summary><c>device-missing</c></summary>
    DeviceMissing,

    /// <summary><c>device-invalid</c></summary>
    DeviceInvalid,

    /// <summary><c>device-noncompliant</c></summary>
    DeviceNoncompliant,

    /// <summary><c>device-unmanaged</c></summary>
    DeviceUnmanaged,

    /// <summary><c>device-risk-too-high</c></summary>
    DeviceRiskTooHigh,

    /// <summary><c>device-quarantined</c></summary>
    DeviceQuarantined,

    /// <summary><c>principal-quarantined</c></summary>
    PrincipalQuarantined,

    /// <summary><c>segment-not-allowed</c></summary>
    SegmentNotAllowed,

    /// <summary><c>source-mismatch</c></summary>
    SourceMismatch,

    /// <summary><c>no-matching-rule</c></summary>
    NoMatchingRule,

    /// <summary><c>denied-by-rule</c></summary>
    DeniedByRule,

    /// <summary><c>grant-expired</c></summary>
    GrantExpired,

    /// <summary><c>upstream-unavailable</c></summary>
    UpstreamUnavailable,

    /// <summary><c>upstream-timeout</c></summary>
    UpstreamTimeout,

    /// <summary><c>path-invalid</c>: a request target that an upstream could read as another path.</summary>
    PathInvalid,

    /// <summary><c>rate-limited</c>: the source sent more refused requests than <c>gateway.limits.refusalsPerSource</c>.</summary>
    RateLimited,

    /// <summary><c>internal-error</c>: the gateway failed unexpectedly; nothing was forwarded.</summary>
    InternalError,

    /// <summary>
    /// <c>token-unbound</c>: the rule asks for a certificate-bound token (<c>boundToken: true</c>) and the caller sent a
    /// bearer token bound to nothing. Last, so that no other code changes its number.
    /// </summary>
    TokenUnbound,
}

/// <summary>Conversions of <see cref="ReasonCode"/>.</summary>
public static class ReasonCodes
{
    private static readonly string[] Codes =
    [
        "allowed", "route-not-found", "token-missing", "token-invalid", "token-expired", "token-revoked",
        "mfa-required", "auth-too-old", "acr-insufficient", "device-missing", "device-invalid",
        "device-noncompliant", "device-unmanaged", "device-risk-too-high", "device-quarantined",
        "principal-quarantined", "segment-not-allowed", "source-mismatch", "no-matching-rule",
        "denied-by-rule", "grant-expired", "upstream-unavailable", "upstream-timeout",
        "path-invalid", "rate-limited", "internal-error", "token-unbound",
    ];

    /// <summary>The kebab-case code, e.g. <c>segment-not-allowed</c>. Never allocates.</summary>
    public static string ToCode(this ReasonCode reason) => Codes[(int)reason];

    /// <summary>Parses a kebab-case code.</summary>
    public static bool TryParse(string code, out ReasonCode reason)
    {
        var index = Array.IndexOf(Codes, code);
        reason = index < 0 ? default : (ReasonCode)index;
        return index >= 0;
    }

    /// <summary>True for the reasons answered with an RFC 9470 step-up challenge.</summary>
    public static bool IsStepUp(this ReasonCode reason) =>
        reason is ReasonCode.MfaRequired or ReasonCode.AuthTooOld or ReasonCode.AcrInsufficient;

    /// <summary>True for the reasons about the device.</summary>
    public static bool IsDevice(this ReasonCode reason) =>
        reason is ReasonCode.DeviceMissing or ReasonCode.DeviceInvalid or ReasonCode.DeviceNoncompliant
            or ReasonCode.DeviceUnmanaged or ReasonCode.DeviceRiskTooHigh or ReasonCode.DeviceQuarantined;
}
