using Microsoft.IdentityModel.Tokens;

namespace ZtGateway.Upstream.Keys;

/// <summary>Keys given in configuration; never refreshed.</summary>
internal sealed class StaticGatewayKeySource : IGatewayKeySource
{
    private readonly IReadOnlyList<SecurityKey> _keys;

    public StaticGatewayKeySource(IReadOnlyList<SecurityKey> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        _keys = keys;
    }

    public ValueTask<IReadOnlyList<SecurityKey>> GetKeysAsync(CancellationToken cancellationToken) => ValueTask.FromResult(_keys);

    public ValueTask<IReadOnlyList<SecurityKey>> RefreshForUnknownKeyAsync(string keyId, CancellationToken cancellationToken) => ValueTask.FromResult(_keys);
}
