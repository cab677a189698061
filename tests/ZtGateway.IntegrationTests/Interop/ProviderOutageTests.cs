using System.Net;
using ZtGateway.IntegrationTests.Infrastructure;
using ZtGateway.Sources.Identity;

namespace ZtGateway.IntegrationTests.Interop;

/// <summary>
/// The provider goes away and comes back: cached keys keep working, unknown keys are refused with 401
/// (never a 500), a gateway started without its provider answers 401 and is not ready until the keys load,
/// and everything recovers without a restart.
/// </summary>
[Trait("Category", "Interop")]
public sealed class ProviderOutageTests : IAsyncLifetime
{
    private static readonly TimeSpan RecoveryBudget = TimeSpan.FromSeconds(30);

    private InteropRig? _rig;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_rig is not null)
        {
            await _rig.DisposeAsync();
        }
    }

    [Fact]
    public async Task ProviderRemovedMidRun_CachedKeysKeepWorking_UnknownKidsAre401_ThenRecovers()
    {
        _rig = await InteropRig.StartAsync();
        var provider = _rig.Provider;
        var statuses = new List<HttpStatusCode>();
        var workload = await provider.WorkloadTokenAsync();
        var user = await provider.UserTokenAsync("bob");
        statuses.Add(await StatusAsync(workload));

        await provider.StopAsync();
        var reload = await _rig.Gateway.Host.ReloadAsync(); // a policy reload during the outage keeps the keys
        var cachedWorkload = await _rig.GetLedgerAsync(workload);
        var cachedUser = await _rig.GetLedgerAsync(user);
        var unknownKids = new List<Problem>();
        for (var i = 0; i < 3; i++)
        {
            // Each round is past the 30 s limit, so each tries the (absent) provider again.
            _rig.Gateway.Time.Advance(DiscoveryIssuerTrust.KeyRefreshInterval);
            unknownKids.Add(await _rig.GetLedgerAsync(_rig.TokenWithUnknownKid()));
        }

        var readinessWhileDown = await _rig.ReadinessAsync();
        statuses.AddRange([cachedWorkload.Status, cachedUser.Status, .. unknownKids.Select(p => p.Status)]);

        // The provider comes back with a new signing key; its tokens are accepted without a gateway restart.
        await provider.AddSigningKeyAsync();
        await provider.StartAsync();
        var rotated = await provider.WorkloadTokenAsync();
        var recovered = await EventuallyAsync(rotated, statuses);

        Assert.True(reload.Succeeded);
        Assert.Equal(HttpStatusCode.OK, cachedWorkload.Status);
        Assert.Equal(HttpStatusCode.OK, cachedUser.Status);
        Assert.All(unknownKids, p => Assert.Equal((HttpStatusCode.Unauthorized, "token-invalid"), (p.Status, p.Reason)));
        Assert.True(readinessWhileDown.KeysReady, "keys fetched once stay usable while the provider is down");
        Assert.Equal(HttpStatusCode.OK, recovered);
        Assert.DoesNotContain(statuses, s => (int)s >= 500);
    }

    [Fact]
    public async Task GatewayStartedWhileProviderIsDown_Answers401_IsNotReady_ThenRecovers()
    {
        _rig = await InteropRig.StartAsync(providerUp: false);
        var statuses = new List<HttpStatusCode>();

        var missing = await _rig.GetLedgerAsync(token: null);
        var unverifiable = await _rig.GetLedgerAsync(_rig.TokenWithUnknownKid());
        var notReady = await _rig.ReadinessAsync();
        statuses.AddRange([missing.Status, unverifiable.Status]);

        await _rig.Provider.StartAsync();
        var token = await _rig.Provider.WorkloadTokenAsync();
        var ready = await EventuallyReadyAsync();
        var recovered = await EventuallyAsync(token, statuses);

        Assert.Equal((HttpStatusCode.Unauthorized, "token-missing"), (missing.Status, missing.Reason));
        Assert.Equal((HttpStatusCode.Unauthorized, "token-invalid"), (unverifiable.Status, unverifiable.Reason));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, notReady.Status);
        Assert.False(notReady.KeysReady);
        Assert.True(ready.KeysReady, ready.KeysDetail);
        Assert.Equal(HttpStatusCode.OK, ready.Status);
        Assert.Equal(HttpStatusCode.OK, recovered);
        Assert.DoesNotContain(statuses, s => (int)s >= 500);
    }

    private async Task<HttpStatusCode> StatusAsync(string token) => (await _rig!.GetLedgerAsync(token)).Status;

    // Moves the gateway's clock on (retry pauses, the 30 s kid limit, the open circuit) until the token is
    // accepted, recording every answer on the way.
    private async Task<HttpStatusCode> EventuallyAsync(string token, List<HttpStatusCode> statuses)
    {
        var deadline = DateTime.UtcNow + RecoveryBudget;
        while (true)
        {
            var status = await StatusAsync(token);
            statuses.Add(status);
            if (status == HttpStatusCode.OK || DateTime.UtcNow > deadline)
            {
                return status;
            }

            _rig!.Gateway.Time.Advance(DiscoveryIssuerTrust.KeyRefreshInterval);
            await Task.Delay(100);
        }
    }

    private async Task<(HttpStatusCode Status, bool KeysReady, string KeysDetail)> EventuallyReadyAsync()
    {
        var deadline = DateTime.UtcNow + RecoveryBudget;
        while (true)
        {
            var readiness = await _rig!.ReadinessAsync();
            if (readiness.KeysReady || DateTime.UtcNow > deadline)
            {
                return readiness;
            }

            // Only the background warm-up runs here: no request asks for the keys.
            _rig.Gateway.Time.Advance(DiscoveryIssuerTrust.RetryAfterFailure);
            await Task.Delay(100);
        }
    }
}
