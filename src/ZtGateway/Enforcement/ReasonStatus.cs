using ZtGateway.Policy.Engine;

namespace ZtGateway.Enforcement;

/// <summary>HTTP status of each reason code (docs/design.md section 5).</summary>
internal static class ReasonStatus
{
    public static int For(ReasonCode reason) => reason switch
    {
        ReasonCode.Allowed => StatusCodes.Status200OK,
        ReasonCode.RouteNotFound => StatusCodes.Status404NotFound,
        ReasonCode.PathInvalid => StatusCodes.Status400BadRequest,
        ReasonCode.RateLimited => StatusCodes.Status429TooManyRequests,
        ReasonCode.InternalError => StatusCodes.Status503ServiceUnavailable,
        ReasonCode.TokenMissing or ReasonCode.TokenInvalid or ReasonCode.TokenExpired or ReasonCode.TokenRevoked or ReasonCode.TokenUnbound
            or ReasonCode.MfaRequired or ReasonCode.AuthTooOld or ReasonCode.AcrInsufficient => StatusCodes.Status401Unauthorized,
        ReasonCode.UpstreamUnavailable => StatusCodes.Status503ServiceUnavailable,
        ReasonCode.UpstreamTimeout => StatusCodes.Status504GatewayTimeout,
        _ => StatusCodes.Status403Forbidden,
    };

    /// <summary>A short, fixed title per reason: never token contents or policy internals.</summary>
    public static string Title(ReasonCode reason) => reason switch
    {
        ReasonCode.RouteNotFound => "No route of this segment matches the request",
        ReasonCode.TokenMissing => "A bearer token is required",
        ReasonCode.TokenInvalid => "The bearer token is not valid",
        ReasonCode.TokenExpired => "The bearer token has expired",
        ReasonCode.TokenRevoked => "The bearer token has been revoked",
        ReasonCode.MfaRequired => "Multi-factor authentication is required",
        ReasonCode.AuthTooOld => "A more recent authentication is required",
        ReasonCode.AcrInsufficient => "A stronger authentication context is required",
        ReasonCode.DeviceMissing => "A device-posture assertion is required",
        ReasonCode.DeviceInvalid => "The device-posture assertion is not valid",
        ReasonCode.DeviceNoncompliant => "The device is not compliant",
        ReasonCode.DeviceUnmanaged => "The device is not managed",
        ReasonCode.DeviceRiskTooHigh => "The device risk is too high",
        ReasonCode.DeviceQuarantined => "The device is quarantined",
        ReasonCode.PrincipalQuarantined => "The caller is quarantined",
        ReasonCode.SegmentNotAllowed => "Callers from this source segment may not use this route",
        ReasonCode.SourceMismatch => "The workload is calling from outside its segment's networks",
        ReasonCode.NoMatchingRule => "No rule of this route allows the caller",
        ReasonCode.DeniedByRule => "A rule of this route denies the caller",
        ReasonCode.GrantExpired => "The access grant has expired",
        ReasonCode.UpstreamUnavailable => "The upstream service is unavailable",
        ReasonCode.UpstreamTimeout => "The upstream service did not answer in time",
        ReasonCode.PathInvalid => "The request path is ambiguous and is never forwarded",
        ReasonCode.RateLimited => "Too many refused requests from this source",
        ReasonCode.InternalError => "The gateway could not decide this request",
        ReasonCode.TokenUnbound => "A certificate-bound token is required",
        _ => "Allowed",
    };
}
