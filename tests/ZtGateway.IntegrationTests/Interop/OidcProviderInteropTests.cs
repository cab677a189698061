using System.Net;
using ZtGateway.IntegrationTests.Infrastructure;

namespace ZtGateway.IntegrationTests.Interop;

/// <summary>
/// The gateway with <c>type: oidc</c> against a real, certified OpenID Provider: workload tokens from the
/// client-credentials grant and user tokens carrying amr, acr, auth_time and groups, through a real listener.
/// </summary>
[Trait("Category", "Interop")]
public sealed class OidcProviderInteropTests : IAsyncLifetime
{
    private InteropRig _rig = null!;

    public async Task InitializeAsync() => _rig = await InteropRig.StartAsync();

    public async Task DisposeAsync() => await _rig.DisposeAsync();

    [Fact]
    public async Task Allows_ClientCredentialsWorkload_AndForwardsItsIdentity()
    {
        var token = await _rig.Provider.WorkloadTokenAsync();

        var answer = await _rig.GetLedgerAsync(token);

        Assert.Equal(HttpStatusCode.OK, answer.Status);
        var assertion = _rig.LastAssertion();
        Assert.Equal("ledger-sync", assertion.GetProperty("sub").GetString());
        Assert.Equal("workload", assertion.GetProperty("principal_type").GetString());
        Assert.Equal("ledger-sync", assertion.GetProperty("rule").GetString());
    }

    [Fact]
    public async Task Allows_UserWithMfa_ByTheGroupsTheProviderIssued()
    {
        var token = await _rig.Provider.UserTokenAsync("bob", amr: "pwd otp");

        var answer = await _rig.GetLedgerAsync(token);

        Assert.Equal(HttpStatusCode.OK, answer.Status);
        var assertion = _rig.LastAssertion();
        Assert.Equal("bob", assertion.GetProperty("sub").GetString());
        Assert.Equal("user", assertion.GetProperty("principal_type").GetString());
        Assert.Equal("finance-staff", assertion.GetProperty("rule").GetString());
    }

    [Fact]
    public async Task Refuses_UserWithoutMfa_AsMfaRequired()
    {
        var token = await _rig.Provider.UserTokenAsync("bob", amr: "pwd");

        var answer = await _rig.GetLedgerAsync(token);

        Assert.Equal(HttpStatusCode.Unauthorized, answer.Status);
        Assert.Equal("mfa-required", answer.Reason);
        Assert.Empty(_rig.Ledger.Requests);
    }

    [Fact]
    public async Task StepUp_UsesTheProvidersAcrAndAuthTime()
    {
        var recentPhr = await _rig.Provider.UserTokenAsync("alice", amr: "hwk mfa", acr: "phr", authAge: TimeSpan.FromMinutes(2));
        var noAcr = await _rig.Provider.UserTokenAsync("alice", amr: "hwk mfa", authAge: TimeSpan.FromMinutes(2));
        var oldLogin = await _rig.Provider.UserTokenAsync("alice", amr: "hwk mfa", acr: "phr", authAge: TimeSpan.FromHours(1));
        var notController = await _rig.Provider.UserTokenAsync("bob", amr: "hwk mfa", acr: "phr", authAge: TimeSpan.FromMinutes(2));

        var allowed = await _rig.GetLedgerAsync(recentPhr, "/ledger/close/2026-03");
        var withoutAcr = await _rig.GetLedgerAsync(noAcr, "/ledger/close/2026-03");
        var tooOld = await _rig.GetLedgerAsync(oldLogin, "/ledger/close/2026-03");
        var wrongRole = await _rig.GetLedgerAsync(notController, "/ledger/close/2026-03");

        Assert.Equal("phr", OidcProviderProcess.ClaimsOf(recentPhr).GetProperty("acr").GetString());
        Assert.Equal(HttpStatusCode.OK, allowed.Status);
        Assert.Equal((HttpStatusCode.Unauthorized, "acr-insufficient"), (withoutAcr.Status, withoutAcr.Reason));
        Assert.Equal((HttpStatusCode.Unauthorized, "auth-too-old"), (tooOld.Status, tooOld.Reason));
        Assert.Contains("insufficient_user_authentication", tooOld.Challenge, StringComparison.Ordinal);
        Assert.Equal((HttpStatusCode.Forbidden, "no-matching-rule"), (wrongRole.Status, wrongRole.Reason));
    }

    [Fact]
    public async Task Refuses_TokenClaimingTheProvider_ButNotSignedByIt()
    {
        var forged = _rig.TokenWithUnknownKid();

        var refused = await _rig.GetLedgerAsync(forged);

        Assert.Equal((HttpStatusCode.Unauthorized, "token-invalid"), (refused.Status, refused.Reason));
        Assert.Contains("error=\"invalid_token\"", refused.Challenge, StringComparison.Ordinal);
        Assert.Empty(_rig.Ledger.Requests);
    }

    [Fact]
    public async Task Readyz_ReportsTheProvidersKeysLoaded()
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        var readiness = await _rig.ReadinessAsync();
        while (!readiness.KeysReady && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
            readiness = await _rig.ReadinessAsync();
        }

        Assert.Equal(HttpStatusCode.OK, readiness.Status);
        Assert.True(readiness.KeysReady);
        Assert.Contains(_rig.Provider.Issuer, readiness.KeysDetail, StringComparison.Ordinal);
    }
}
