using System.Net;
using ZtGateway.IntegrationTests.Infrastructure;

namespace ZtGateway.IntegrationTests.Interop;

/// <summary>
/// The <c>entra</c> issuer type against an Entra-shaped authority on loopback (tenant-specific discovery,
/// issuer <c>{instance}{tenantId}/v2.0</c>, keys that announce their issuer), through a real listener:
/// app-only and user tokens are mapped, and nothing from another tenant gets in.
/// </summary>
[Trait("Category", "Interop")]
public sealed class EntraInteropTests : IAsyncLifetime
{
    private const string LedgerSyncAppId = "0f8d3c2b-1111-4c4c-9d9d-ledgersync01";
    private const string PortalClientId = "5e6f7a8b-2222-4d4d-8e8e-financeportal";

    private readonly TestIdentity _unusedIdentity = new();
    private EntraAuthority _entra = null!;
    private EchoUpstream _ledger = null!;
    private TestGateway _gateway = null!;
    private HttpClient _finance = null!;

    public async Task InitializeAsync()
    {
        _entra = await EntraAuthority.StartAsync();
        _ledger = await EchoUpstream.StartAsync("ledger");
        _gateway = await TestGateway.StartAsync(_unusedIdentity, InteropConfig.Finance(_ledger.Url, LedgerSyncAppId),
            InteropConfig.EntraGateway(_entra.Instance, EntraAuthority.TenantId, EntraAuthority.Audience));
        _finance = _gateway.Client("finance");
    }

    public async Task DisposeAsync()
    {
        _finance.Dispose();
        await _gateway.DisposeAsync();
        await _ledger.DisposeAsync();
        await _entra.DisposeAsync();
        _unusedIdentity.Dispose();
    }

    [Fact]
    public async Task Allows_AppOnlyToken_AsTheWorkloadNamedByItsAppId()
    {
        var token = _entra.AppToken(Now, LedgerSyncAppId, ["Ledger.Sync"]);

        var answer = await GetAsync(token);

        Assert.Equal(HttpStatusCode.OK, answer.Status);
        var assertion = LastAssertion();
        Assert.Equal("workload", assertion.GetProperty("principal_type").GetString());
        Assert.Equal("ledger-sync", assertion.GetProperty("rule").GetString());
    }

    [Fact]
    public async Task Allows_UserToken_ByGroupsWithMfa()
    {
        var token = _entra.UserToken(Now, "bob", PortalClientId, ["finance-staff"], ["pwd", "mfa"], version: "1.0");

        var answer = await GetAsync(token);

        Assert.Equal(HttpStatusCode.OK, answer.Status);
        var assertion = LastAssertion();
        Assert.Equal("user", assertion.GetProperty("principal_type").GetString());
        Assert.Equal("pairwise-bob", assertion.GetProperty("sub").GetString());
    }

    [Fact]
    public async Task Allows_V1TokenOfTheTenant()
    {
        var token = _entra.AppToken(Now, LedgerSyncAppId, ["Ledger.Sync"], issuer: _entra.V1Issuer);

        var answer = await GetAsync(token);

        Assert.Equal(HttpStatusCode.OK, answer.Status);
    }

    [Fact]
    public async Task Refuses_UserWithoutMfa()
    {
        var token = _entra.UserToken(Now, "bob", PortalClientId, ["finance-staff"], ["pwd"], version: "1.0");

        var answer = await GetAsync(token);

        Assert.Equal((HttpStatusCode.Unauthorized, "mfa-required"), (answer.Status, answer.Reason));
    }

    [Fact]
    public async Task Refuses_V2UserToken_ThatCarriesNoAmr_AsMfaRequired()
    {
        // Why docs/guide.md (Entra ID) asks for v1.0 access tokens: v2.0 ones never say how the user signed in.
        var token = _entra.UserToken(Now, "bob", PortalClientId, ["finance-staff"], ["pwd", "mfa"], version: "2.0");

        var answer = await GetAsync(token);

        Assert.Equal((HttpStatusCode.Unauthorized, "mfa-required"), (answer.Status, answer.Reason));
        Assert.Contains("insufficient_user_authentication", answer.Challenge, StringComparison.Ordinal);
    }

    public static TheoryData<string> ForeignTokens() => ["other-tenant-v2", "other-tenant-v1", "tid-of-other-tenant", "common-endpoint"];

    [Theory]
    [MemberData(nameof(ForeignTokens))]
    public async Task Refuses_TokensNotFromTheConfiguredTenant(string kind)
    {
        var token = kind switch
        {
            "other-tenant-v2" => _entra.AppToken(Now, LedgerSyncAppId, ["Ledger.Sync"], issuer: _entra.Instance + EntraAuthority.OtherTenantId + "/v2.0", tenantId: EntraAuthority.OtherTenantId),
            "other-tenant-v1" => _entra.AppToken(Now, LedgerSyncAppId, ["Ledger.Sync"], issuer: $"https://sts.windows.net/{EntraAuthority.OtherTenantId}/", tenantId: EntraAuthority.OtherTenantId),
            "tid-of-other-tenant" => _entra.AppToken(Now, LedgerSyncAppId, ["Ledger.Sync"], tenantId: EntraAuthority.OtherTenantId),
            "common-endpoint" => _entra.AppToken(Now, LedgerSyncAppId, ["Ledger.Sync"], issuer: _entra.Instance + "common/v2.0"),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };

        var answer = await GetAsync(token);

        Assert.Equal((HttpStatusCode.Unauthorized, "token-invalid"), (answer.Status, answer.Reason));
        Assert.Empty(_ledger.Requests);
    }

    [Fact]
    public async Task Refuses_TokenSignedWithAKeyAnnouncedForAnotherTenant()
    {
        // A fresh authority and gateway, so the gateway's first fetch already sees the foreign key.
        await using var entra = await EntraAuthority.StartAsync(keyIssuerTenant: EntraAuthority.OtherTenantId);
        using var identity = new TestIdentity();
        await using var gateway = await TestGateway.StartAsync(identity, InteropConfig.Finance(_ledger.Url, LedgerSyncAppId),
            InteropConfig.EntraGateway(entra.Instance, EntraAuthority.TenantId, EntraAuthority.Audience));
        using var finance = gateway.Client("finance");

        var answer = await Problem.SendAsync(finance, HttpMethod.Get, "/ledger/entries", entra.AppToken(gateway.Time.GetUtcNow(), LedgerSyncAppId, ["Ledger.Sync"]));

        Assert.Equal((HttpStatusCode.Unauthorized, "token-invalid"), (answer.Status, answer.Reason));
        Assert.Empty(_ledger.Requests);
    }

    [Fact]
    public async Task Refuses_TokenForAnotherApi()
    {
        var token = _entra.AppToken(Now, LedgerSyncAppId, ["Ledger.Sync"]);
        var otherAudience = _entra.AppToken(Now, LedgerSyncAppId, ["Ledger.Sync"], audience: "api://graph");

        var allowed = await GetAsync(token);
        var refused = await GetAsync(otherAudience);

        Assert.Equal(HttpStatusCode.OK, allowed.Status);
        Assert.Equal((HttpStatusCode.Unauthorized, "token-invalid"), (refused.Status, refused.Reason));
    }

    private DateTimeOffset Now => _gateway.Time.GetUtcNow();

    private Task<Problem> GetAsync(string token) => Problem.SendAsync(_finance, HttpMethod.Get, "/ledger/entries", token);

    private System.Text.Json.JsonElement LastAssertion() => OidcProviderProcess.ClaimsOf(_ledger.Requests.Last().Headers["X-ZT-Assertion"]);
}
