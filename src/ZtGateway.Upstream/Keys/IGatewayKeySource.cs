using Microsoft.IdentityModel.Tokens;

namespace ZtGateway.Upstream.Keys;

/// <summary>Supplies the gateway's public keys that assertions are verified against.</summary>
internal interface IGatewayKeySource
{
    /// <summary>The current keys; may fetch them when none are cached or the cache is due for refresh.</summary>
    ValueTask<IReadOnlyList<SecurityKey>> GetKeysAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Called when an assertion names a key id that the current keys lack. Fetches again unless that
    /// happened recently, and returns whatever keys are current afterwards.
    /// </summary>
    ValueTask<IReadOnlyList<SecurityKey>> RefreshForUnknownKeyAsync(string keyId, CancellationToken cancellationToken);
}
