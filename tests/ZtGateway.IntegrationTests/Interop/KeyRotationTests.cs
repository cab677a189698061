using System.Net;
using ZtGateway.IntegrationTests.Infrastructure;
using ZtGateway.Sources.Identity;

namespace ZtGateway.IntegrationTests.Interop;

/// <summary>
/// The provider adds a signing key and signs with it, then retires the old one; the gateway follows
/// without a restart, and refreshes on unknown key ids no more than once every 30 seconds.
/// </summary>
[Trait("Category", "Interop")]
public sealed class KeyRotationTests : IAsyncLifetime
{
    private InteropRig _rig = null!;

    public async Task InitializeAsync() => _rig = await InteropRig.StartAsync();

    public async Task DisposeAsync() => await _rig.DisposeAsync();

    [Fact]
    public async Task Accepts_TokensOfANewKey_WithoutRestart_AndRefusesARetiredKey_AfterTheRefresh()
    {
        var provider = _rig.Provider;
        var oldToken = await provider.WorkloadTokenAsync();
        Assert.Equal(HttpStatusCode.OK, (await _rig.GetLedgerAsync(oldToken)).Status);

        // The provider adds a key and starts signing with it; the old one stays published.
        var newKid = await provider.AddSigningKeyAsync();
        await provider.RestartAsync();
        var newToken = await provider.WorkloadTokenAsync();
        var withNewKey = await _rig.GetLedgerAsync(newToken);
        var withOldKey = await _rig.GetLedgerAsync(oldToken);

        Assert.Equal(newKid, OidcProviderProcess.KeyIdOf(newToken));
        Assert.NotEqual(OidcProviderProcess.KeyIdOf(oldToken), newKid);
        Assert.Equal(HttpStatusCode.OK, withNewKey.Status);
        Assert.Equal(HttpStatusCode.OK, withOldKey.Status);

        // The old key is retired. Keys cached by the gateway still hold it until the next refresh, which an
        // unknown kid may cause once the 30 s limit has passed.
        await provider.RetireOldKeysAsync();
        await provider.RestartAsync();
        _rig.Gateway.Time.Advance(DiscoveryIssuerTrust.KeyRefreshInterval);
        var unknownKid = await _rig.GetLedgerAsync(_rig.TokenWithUnknownKid());
        var retired = await _rig.GetLedgerAsync(oldToken);
        var current = await _rig.GetLedgerAsync(newToken);

        Assert.Equal((HttpStatusCode.Unauthorized, "token-invalid"), (unknownKid.Status, unknownKid.Reason));
        Assert.Equal((HttpStatusCode.Unauthorized, "token-invalid"), (retired.Status, retired.Reason));
        Assert.Equal(HttpStatusCode.OK, current.Status);
    }

    [Fact]
    public async Task Refreshes_OnUnknownKid_AtMostOnceEvery30Seconds()
    {
        var provider = _rig.Provider;
        Assert.Equal(HttpStatusCode.OK, (await _rig.GetLedgerAsync(await provider.WorkloadTokenAsync())).Status);

        // A flood of random key ids causes one refresh; the rest are refused from the cache.
        for (var i = 0; i < 5; i++)
        {
            var flood = await _rig.GetLedgerAsync(_rig.TokenWithUnknownKid());
            Assert.Equal((HttpStatusCode.Unauthorized, "token-invalid"), (flood.Status, flood.Reason));
        }

        // So a genuinely new key is not seen until the interval has passed.
        await provider.AddSigningKeyAsync();
        await provider.RestartAsync();
        var token = await provider.WorkloadTokenAsync();
        var tooSoon = await _rig.GetLedgerAsync(token);
        _rig.Gateway.Time.Advance(DiscoveryIssuerTrust.KeyRefreshInterval);
        var afterInterval = await _rig.GetLedgerAsync(token);

        Assert.Equal((HttpStatusCode.Unauthorized, "token-invalid"), (tooSoon.Status, tooSoon.Reason));
        Assert.Equal(HttpStatusCode.OK, afterInterval.Status);
    }
}
