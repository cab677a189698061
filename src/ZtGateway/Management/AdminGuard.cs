using ZtGateway.Enforcement;
using ZtGateway.Enforcement.Model;
using ZtGateway.Policy.Engine;
using ZtGateway.Sources.Continuous;

namespace ZtGateway.Management;

/// <summary>
/// The admin API's own requirement: a valid token from the configured <c>admin.issuer</c> carrying
/// <c>admin.role</c>. Without an <c>admin:</c> section the admin API is closed to everyone.
/// </summary>
internal static class AdminGuard
{
    /// <summary>Null when the caller is an admin; otherwise the refusal to send.</summary>
    public static async Task<IResult?> CheckAsync(HttpContext context, GatewayState state)
    {
        var admin = state.Policy.Gateway.Admin;
        var authorization = context.Request.Headers.Authorization;
        var token = await state.Tokens.ValidateAsync(authorization.Count == 1 ? authorization[0] : null, context.RequestAborted);
        if (token.Status != TokenStatus.Valid || token.Principal is null)
        {
            var reason = token.Status switch
            {
                TokenStatus.Missing => ReasonCode.TokenMissing,
                TokenStatus.Expired => ReasonCode.TokenExpired,
                TokenStatus.Revoked => ReasonCode.TokenRevoked,
                _ => ReasonCode.TokenInvalid,
            };
            return new DenialResult(reason);
        }

        if (admin is null || token.IssuerName != admin.Issuer || !token.Principal.Roles.Contains(admin.Role))
        {
            return new DenialResult(ReasonCode.NoMatchingRule);
        }

        // A revoked or quarantined admin is no admin: signals and quarantines bind the admin API too.
        if (context.RequestServices.GetService<ContinuousEvaluation>() is { } continuous)
        {
            var verdict = continuous.Check(token.Principal, device: null);
            if (verdict.Revoked || verdict.PrincipalQuarantined)
            {
                return new DenialResult(verdict.Revoked ? ReasonCode.TokenRevoked : ReasonCode.PrincipalQuarantined);
            }
        }

        context.Items[AdminKey] = token.Principal.Subject;
        return null;
    }

    /// <summary>The subject of the admin that <see cref="CheckAsync"/> let through, for audit lines.</summary>
    public static string Admin(HttpContext context) => context.Items[AdminKey] as string ?? "unknown";

    private static readonly object AdminKey = new();

    private sealed class DenialResult(ReasonCode reason) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext) =>
            DenialWriter.WriteAsync(httpContext, "management", reason, Guid.CreateVersion7().ToString(),
                System.Diagnostics.Activity.Current?.TraceId.ToHexString() ?? System.Diagnostics.ActivityTraceId.CreateRandom().ToHexString());
    }
}
