using ZtGateway.Policy.Engine;

namespace ZtGateway.Sources.Continuous;

/// <summary>The one id of a caller used by quarantines, detection and audit lines (<c>actor.user.uid</c>).</summary>
internal static class PrincipalIds
{
    /// <summary>A user's <c>sub</c>; a workload's id (its SPIFFE id, else <c>azp</c>/<c>client_id</c>/<c>appid</c>).</summary>
    public static string Of(Principal principal)
    {
        ArgumentNullException.ThrowIfNull(principal);
        return principal.Kind == PrincipalKind.Workload ? principal.WorkloadId ?? principal.Subject : principal.Subject;
    }
}
