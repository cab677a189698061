using Microsoft.Extensions.Time.Testing;
using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Engine;
using ZtGateway.Sources.Identity;

namespace ZtGateway.Tests.Identity;

/// <summary><c>type: oidc</c> and <c>type: entra</c> issuers against a real discovery server on 127.0.0.1.</summary>
public sealed class DiscoveryIssuerTrustTests : IClassFixture<SharedKeys>
{
    private const string Audience = "ztgw";
    private const string TenantId = "11111111-2222-3333-4444-555555555555";
    private const string EntraAudience = "api://ztgw";

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 1, 9, 0, 0, TimeSpan.Zero));
    private readonly TestKey _key;
    private readonly TestKey _otherKey;

    public DiscoveryIssuerTrustTests(SharedKeys keys)
    {
        _key = keys.Primary;
        _otherKey = keys.Other;
    }

    [Fact]
    public async Task Oidc_Accepts_TokenSignedWithDiscoveredKey()
    {
        await using var provider = await LocalIdentityProvider.StartNewAsync("", _key);
        using var validator = CreateValidator(OidcIssuer(provider.Authority));

        var outcome = await ValidateAsync(validator, Mint(provider.Authority, Audience, "alice", _key));

        Assert.Equal(TokenStatus.Valid, outcome.Status);
        Assert.Equal("dev", outcome.IssuerName);
        Assert.Equal(PrincipalKind.User, outcome.Principal!.Kind);
        Assert.Equal(provider.Authority, outcome.Principal.Issuer);
    }

    [Fact]
    public async Task Oidc_Accepts_AdvertisedIssuerThatDiffersByTrailingSlash()
    {
        await using var provider = await LocalIdentityProvider.StartNewAsync("", _key);
        provider.AdvertisedIssuer = provider.Authority + "/";
        using var validator = CreateValidator(OidcIssuer(provider.Authority));

        var withSlash = await ValidateAsync(validator, Mint(provider.Authority + "/", Audience, "alice", _key));
        var withoutSlash = await ValidateAsync(validator, Mint(provider.Authority, Audience, "alice", _key));

        Assert.Equal(TokenStatus.Valid, withSlash.Status);
        Assert.Equal(TokenStatus.Valid, withoutSlash.Status);
    }

    [Fact]
    public async Task Oidc_Refuses_TrailingSlashVariant_TheProviderDoesNotUse()
    {
        await using var provider = await LocalIdentityProvider.StartNewAsync("", _key);
        using var validator = CreateValidator(OidcIssuer(provider.Authority));

        var outcome = await ValidateAsync(validator, Mint(provider.Authority + "/", Audience, "alice", _key));

        Assert.Equal(TokenStatus.Invalid, outcome.Status);
        Assert.Equal("issuer not accepted", outcome.Detail);
    }

    [Fact]
    public async Task Oidc_Refuses_WrongAudience()
    {
        await using var provider = await LocalIdentityProvider.StartNewAsync("", _key);
        using var validator = CreateValidator(OidcIssuer(provider.Authority));

        var outcome = await ValidateAsync(validator, Mint(provider.Authority, "other-api", "alice", _key));

        Assert.Equal(TokenStatus.Invalid, outcome.Status);
    }

    [Fact]
    public async Task Oidc_Refuses_WhileProviderIsDown_ThenAcceptsOnceItIsUp()
    {
        var provider = new LocalIdentityProvider(LocalIdentityProvider.ReservePort());
        provider.ServeKeys(_key);
        using var validator = CreateValidator(OidcIssuer(provider.Authority));
        var token = Mint(provider.Authority, Audience, "alice", _key);

        var whileDown = await ValidateAsync(validator, token);
        await using (provider)
        {
            await provider.StartAsync();
            _time.Advance(DiscoveryIssuerTrust.RetryAfterFailure);
            var onceUp = await ValidateAsync(validator, token);

            Assert.Equal(TokenStatus.Invalid, whileDown.Status);
            Assert.StartsWith("issuer metadata unavailable", whileDown.Detail, StringComparison.Ordinal);
            Assert.Equal("dev", whileDown.IssuerName);
            Assert.Equal(TokenStatus.Valid, onceUp.Status);
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task Oidc_Refuses_WhenMetadataHangs_ThenRecovers()
    {
        await using var provider = await LocalIdentityProvider.StartNewAsync("", _key);
        provider.Hang = true;
        using var validator = CreateValidator(OidcIssuer(provider.Authority));
        var token = Mint(provider.Authority, Audience, "alice", _key);

        var whileHanging = await ValidateAsync(validator, token);
        provider.Hang = false;
        _time.Advance(DiscoveryIssuerTrust.RetryAfterFailure);
        var afterwards = await ValidateAsync(validator, token);

        Assert.Equal(TokenStatus.Invalid, whileHanging.Status);
        Assert.Equal(TokenStatus.Valid, afterwards.Status);
    }

    [Fact(Timeout = 30_000)]
    public async Task Oidc_Refuses_WhenCallerCancels_WithoutThrowing()
    {
        await using var provider = await LocalIdentityProvider.StartNewAsync("", _key);
        provider.Hang = true;
        using var validator = CreateValidator(OidcIssuer(provider.Authority));
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        var outcome = await validator.ValidateAsync(TestTokens.Bearer(Mint(provider.Authority, Audience, "alice", _key)), cts.Token);

        Assert.Equal(TokenStatus.Invalid, outcome.Status);
        Assert.Equal("validation canceled", outcome.Detail);
    }

    [Fact]
    public async Task Oidc_Refuses_PlainHttpMetadata_WhenHttpsIsRequired()
    {
        await using var provider = await LocalIdentityProvider.StartNewAsync("", _key);
        using var validator = CreateValidator(OidcIssuer(provider.Authority) with { RequireHttpsMetadata = true });

        var outcome = await ValidateAsync(validator, Mint(provider.Authority, Audience, "alice", _key));

        Assert.Equal(TokenStatus.Invalid, outcome.Status);
        Assert.Equal(0, provider.DiscoveryRequests);
    }

    [Fact]
    public async Task Oidc_RefreshesKeys_OnUnknownKid_AtMostOncePerInterval()
    {
        await using var provider = await LocalIdentityProvider.StartNewAsync("", _key);
        using var validator = CreateValidator(OidcIssuer(provider.Authority));
        using var third = TestKey.Ec();
        Assert.Equal(TokenStatus.Valid, (await ValidateAsync(validator, Mint(provider.Authority, Audience, "alice", _key))).Status);
        var beforeRotation = provider.DiscoveryRequests;

        provider.ServeKeys(_key, _otherKey);
        var rotated = await ValidateAsync(validator, Mint(provider.Authority, Audience, "alice", _otherKey));
        var afterRefresh = provider.DiscoveryRequests;
        provider.ServeKeys(_key, _otherKey, third);
        var tooSoon = await ValidateAsync(validator, Mint(provider.Authority, Audience, "alice", third));

        Assert.Equal(1, beforeRotation);
        Assert.Equal(TokenStatus.Valid, rotated.Status);
        Assert.Equal(2, afterRefresh);
        Assert.Equal(TokenStatus.Invalid, tooSoon.Status);
        Assert.Equal("signing key not found", tooSoon.Detail);
        Assert.Equal(2, provider.DiscoveryRequests);
    }

    [Fact]
    public async Task Oidc_Refuses_KnownKid_WithSignatureFromAnotherKey()
    {
        await using var provider = await LocalIdentityProvider.StartNewAsync("", _key);
        using var validator = CreateValidator(OidcIssuer(provider.Authority));
        var forged = TestTokens.Sign(TestTokens.Claims(provider.Authority, Audience, _time.GetUtcNow()), _otherKey.CredentialsWithKid(_key.Kid));

        var outcome = await ValidateAsync(validator, forged);

        Assert.Equal(TokenStatus.Invalid, outcome.Status);
        Assert.Equal(1, provider.DiscoveryRequests);
    }

    [Fact]
    public async Task Entra_Maps_AppOnlyToken_ToWorkload()
    {
        await using var provider = await LocalIdentityProvider.StartNewAsync($"/{TenantId}/v2.0", _key);
        using var validator = CreateValidator(EntraIssuer(provider));
        var claims = TestTokens.Claims(provider.Authority, EntraAudience, _time.GetUtcNow(), subject: "5b0c7a1e-sp-object-id");
        claims["idtyp"] = "app";
        claims["azp"] = "0f8d3c2b-ledger-sync-client";
        claims["oid"] = "5b0c7a1e-sp-object-id";
        claims["tid"] = TenantId;
        claims["roles"] = new[] { "Ledger.Sync", "Payroll.Read" };

        var outcome = await ValidateAsync(validator, TestTokens.Sign(claims, _key.Credentials));

        Assert.Equal(TokenStatus.Valid, outcome.Status);
        Assert.Equal("corp", outcome.IssuerName);
        Assert.Equal(PrincipalKind.Workload, outcome.Principal!.Kind);
        Assert.Equal("0f8d3c2b-ledger-sync-client", outcome.Principal.WorkloadId);
        Assert.Equal(["Ledger.Sync", "Payroll.Read"], outcome.Principal.Roles);
        Assert.Equal(1, provider.DiscoveryRequests);
    }

    [Fact]
    public async Task Entra_Maps_UserToken_ToUser()
    {
        await using var provider = await LocalIdentityProvider.StartNewAsync($"/{TenantId}/v2.0", _key);
        using var validator = CreateValidator(EntraIssuer(provider));
        var claims = TestTokens.Claims(provider.Authority, EntraAudience, _time.GetUtcNow(), subject: "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ");
        claims["azp"] = "hr-portal-client";
        claims["tid"] = TenantId;
        claims["groups"] = new[] { "hr-staff" };
        claims["amr"] = new[] { "pwd", "mfa" };
        claims["sid"] = "00aa-session";

        var outcome = await ValidateAsync(validator, TestTokens.Sign(claims, _key.Credentials));

        Assert.Equal(TokenStatus.Valid, outcome.Status);
        Assert.Equal(PrincipalKind.User, outcome.Principal!.Kind);
        Assert.Null(outcome.Principal.WorkloadId);
        Assert.Equal(["hr-staff"], outcome.Principal.Groups);
        Assert.Equal(["pwd", "mfa"], outcome.Principal.Amr);
        Assert.Equal("00aa-session", outcome.Principal.SessionId);
    }

    [Fact]
    public async Task Entra_Accepts_V1IssuerOfTheTenant()
    {
        await using var provider = await LocalIdentityProvider.StartNewAsync($"/{TenantId}/v2.0", _key);
        using var validator = CreateValidator(EntraIssuer(provider));
        var claims = TestTokens.Claims($"https://sts.windows.net/{TenantId}/", EntraAudience, _time.GetUtcNow(), subject: "5b0c7a1e-sp-object-id");
        claims["idtyp"] = "app";
        claims["appid"] = "0f8d3c2b-ledger-sync-client";

        var outcome = await ValidateAsync(validator, TestTokens.Sign(claims, _key.Credentials));

        Assert.Equal(TokenStatus.Valid, outcome.Status);
        Assert.Equal("0f8d3c2b-ledger-sync-client", outcome.Principal!.WorkloadId);
    }

    [Theory]
    [InlineData("https://sts.windows.net/99999999-2222-3333-4444-555555555555/")]
    [InlineData("https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/v2.0")]
    public async Task Entra_Refuses_OtherTenantOrInstance(string issuer)
    {
        await using var provider = await LocalIdentityProvider.StartNewAsync($"/{TenantId}/v2.0", _key);
        using var validator = CreateValidator(EntraIssuer(provider));

        var outcome = await ValidateAsync(validator, Mint(issuer, EntraAudience, "someone", _key));

        Assert.Equal(TokenStatus.Invalid, outcome.Status);
        Assert.Equal("unknown issuer", outcome.Detail);
    }

    [Fact]
    public async Task Entra_Refuses_TokenForAnotherAudience()
    {
        await using var provider = await LocalIdentityProvider.StartNewAsync($"/{TenantId}/v2.0", _key);
        using var validator = CreateValidator(EntraIssuer(provider));

        var outcome = await ValidateAsync(validator, Mint(provider.Authority, "api://graph", "someone", _key));

        Assert.Equal(TokenStatus.Invalid, outcome.Status);
        Assert.Equal("audience not accepted", outcome.Detail);
    }

    [Fact]
    public async Task Readiness_IsNotReady_UntilKeysAreFetched()
    {
        await using var provider = await LocalIdentityProvider.StartNewAsync("", _key);
        using var validator = CreateValidator(OidcIssuer(provider.Authority));

        var before = Assert.Single(validator.GetReadiness());
        await ValidateAsync(validator, Mint(provider.Authority, Audience, "alice", _key));
        var after = Assert.Single(validator.GetReadiness());

        Assert.Equal(("dev", false), (before.Issuer, before.Ready));
        Assert.True(after.Ready);
        Assert.Contains("1 signing key(s)", after.Detail, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30_000)]
    public async Task Start_LoadsKeysInTheBackground_WithoutAnyToken()
    {
        await using var provider = await LocalIdentityProvider.StartNewAsync("", _key);
        using var validator = TokenValidator.Start(new IdentitySettings { Issuers = [OidcIssuer(provider.Authority)] }, _time);

        var ready = await EventuallyReadyAsync(validator, advance: TimeSpan.Zero);

        Assert.True(ready.Ready, ready.Detail);
        Assert.Equal(1, provider.DiscoveryRequests);
    }

    [Fact(Timeout = 30_000)]
    public async Task Start_WhileProviderIsDown_IsNotReady_ThenBecomesReadyOnItsOwn()
    {
        var provider = new LocalIdentityProvider(LocalIdentityProvider.ReservePort());
        provider.ServeKeys(_key);
        using var validator = TokenValidator.Start(new IdentitySettings { Issuers = [OidcIssuer(provider.Authority)] }, _time);
        await using (provider)
        {
            var whileDown = await EventuallyAsync(() => validator.GetReadiness()[0], r => r.Detail.StartsWith("metadata unavailable", StringComparison.Ordinal), TimeSpan.Zero);
            await provider.StartAsync();
            var onceUp = await EventuallyReadyAsync(validator, DiscoveryIssuerTrust.RetryAfterFailure);

            Assert.False(whileDown.Ready);
            Assert.True(onceUp.Ready, onceUp.Detail);
            Assert.Equal(TokenStatus.Valid, (await ValidateAsync(validator, Mint(provider.Authority, Audience, "alice", _key))).Status);
        }
    }

    [Fact]
    public async Task Oidc_KeepsUsingCachedKeys_WhileTheProviderIsDown()
    {
        await using var provider = await LocalIdentityProvider.StartNewAsync("", _key);
        using var validator = CreateValidator(OidcIssuer(provider.Authority));
        var token = Mint(provider.Authority, Audience, "alice", _key);
        Assert.Equal(TokenStatus.Valid, (await ValidateAsync(validator, token)).Status);

        await provider.StopAsync();
        _time.Advance(DiscoveryIssuerTrust.AutomaticRefreshInterval);
        var cached = await ValidateAsync(validator, token);
        var unknownKid = await ValidateAsync(validator, Mint(provider.Authority, Audience, "alice", _otherKey));

        Assert.Equal(TokenStatus.Valid, cached.Status);
        Assert.Equal((TokenStatus.Invalid, "signing key not found"), (unknownKid.Status, unknownKid.Detail));
        Assert.True(validator.GetReadiness()[0].Ready);
    }

    [Fact]
    public async Task Start_TakesOverThePreviousValidatorsKeys_ForTheSameProvider()
    {
        await using var provider = await LocalIdentityProvider.StartNewAsync("", _key);
        using var before = CreateValidator(OidcIssuer(provider.Authority));
        var token = Mint(provider.Authority, Audience, "alice", _key);
        Assert.Equal(TokenStatus.Valid, (await ValidateAsync(before, token)).Status);
        await provider.StopAsync();

        using var sameProvider = TokenValidator.Start(new IdentitySettings { Issuers = [OidcIssuer(provider.Authority)] }, _time, previous: before);
        using var otherProvider = TokenValidator.Start(
            new IdentitySettings { Issuers = [OidcIssuer(provider.Authority) with { Authority = provider.BaseUrl + "/other" }] }, _time, previous: before);

        Assert.True(sameProvider.GetReadiness()[0].Ready);
        Assert.Equal(TokenStatus.Valid, (await ValidateAsync(sameProvider, token)).Status);
        Assert.False(otherProvider.GetReadiness()[0].Ready);
    }

    [Fact(Timeout = 30_000)]
    public async Task Oidc_DropsAWithdrawnKey_AfterTheAutomaticRefresh()
    {
        await using var provider = await LocalIdentityProvider.StartNewAsync("", _key, _otherKey);
        using var validator = CreateValidator(OidcIssuer(provider.Authority));
        var withdrawn = Mint(provider.Authority, Audience, "alice", _otherKey);
        Assert.Equal(TokenStatus.Valid, (await ValidateAsync(validator, withdrawn)).Status);

        provider.ServeKeys(_key);
        _time.Advance(DiscoveryIssuerTrust.AutomaticRefreshInterval - TimeSpan.FromMinutes(1));
        var beforeDue = await ValidateAsync(validator, withdrawn);
        _time.Advance(TimeSpan.FromMinutes(1));
        var afterRefresh = await EventuallyAsync(
            () => ValidateAsync(validator, Mint(provider.Authority, Audience, "alice", _otherKey)),
            outcome => outcome.Status == TokenStatus.Invalid,
            TimeSpan.Zero);

        Assert.Equal(TokenStatus.Valid, beforeDue.Status);
        Assert.Equal((TokenStatus.Invalid, "signing key not found"), (afterRefresh.Status, afterRefresh.Detail));
        Assert.Equal(3, provider.DiscoveryRequests); // first fetch, automatic refresh, then the one the refused kid asks for
        Assert.Equal(TokenStatus.Valid, (await ValidateAsync(validator, Mint(provider.Authority, Audience, "alice", _key))).Status);
    }

    [Fact]
    public async Task Oidc_KeepsTheLastGoodKeys_WhenTheProviderServesAnEmptyKeySet()
    {
        await using var provider = await LocalIdentityProvider.StartNewAsync("", _key);
        using var validator = CreateValidator(OidcIssuer(provider.Authority));
        var token = Mint(provider.Authority, Audience, "alice", _key);
        Assert.Equal(TokenStatus.Valid, (await ValidateAsync(validator, token)).Status);

        provider.ServeKeys();
        var refreshTrigger = await ValidateAsync(validator, Mint(provider.Authority, Audience, "alice", _otherKey));
        var stillValid = await ValidateAsync(validator, token);

        Assert.Equal(2, provider.DiscoveryRequests);
        Assert.Equal(TokenStatus.Invalid, refreshTrigger.Status);
        Assert.Equal(TokenStatus.Valid, stillValid.Status);
    }

    [Fact]
    public async Task Oidc_Refuses_WhileProviderAnswersServerErrors_WithoutThrowing()
    {
        await using var provider = await LocalIdentityProvider.StartNewAsync("", _key);
        provider.FailWith = 503;
        using var validator = CreateValidator(OidcIssuer(provider.Authority));

        var outcome = await ValidateAsync(validator, Mint(provider.Authority, Audience, "alice", _key));

        Assert.Equal(TokenStatus.Invalid, outcome.Status);
        Assert.Contains("503", outcome.Detail, StringComparison.Ordinal);
        Assert.Equal(1 + MetadataResilience.MaxRetryAttempts, provider.DiscoveryRequests);
    }

    [Fact]
    public async Task Entra_Refuses_TokenWhoseTidIsAnotherTenant()
    {
        await using var provider = await LocalIdentityProvider.StartNewAsync($"/{TenantId}/v2.0", _key);
        using var validator = CreateValidator(EntraIssuer(provider));
        var claims = TestTokens.Claims(provider.Authority, EntraAudience, _time.GetUtcNow(), subject: "5b0c7a1e-sp-object-id");
        claims["idtyp"] = "app";
        claims["azp"] = "0f8d3c2b-ledger-sync-client";
        claims["tid"] = "99999999-2222-3333-4444-555555555555";

        var outcome = await ValidateAsync(validator, TestTokens.Sign(claims, _key.Credentials));

        Assert.Equal((TokenStatus.Invalid, "issuer not accepted"), (outcome.Status, outcome.Detail));
    }

    private Task<IssuerReadiness> EventuallyReadyAsync(TokenValidator validator, TimeSpan advance)
        => EventuallyAsync(() => Task.FromResult(validator.GetReadiness()[0]), r => r.Ready, advance);

    private Task<T> EventuallyAsync<T>(Func<T> read, Func<T, bool> done, TimeSpan advance)
        => EventuallyAsync(() => Task.FromResult(read()), done, advance);

    // Polls until the condition holds, moving the fake clock on between polls for work that waits on it.
    private async Task<T> EventuallyAsync<T>(Func<Task<T>> read, Func<T, bool> done, TimeSpan advance)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        var value = await read();
        while (!done(value) && DateTime.UtcNow < deadline)
        {
            _time.Advance(advance);
            await Task.Delay(50);
            value = await read();
        }

        return value;
    }

    private string Mint(string issuer, string audience, string subject, TestKey key)
        => TestTokens.Sign(TestTokens.Claims(issuer, audience, _time.GetUtcNow(), subject), key.Credentials);

    private static Task<TokenValidationOutcome> ValidateAsync(TokenValidator validator, string token)
        => validator.ValidateAsync(TestTokens.Bearer(token), CancellationToken.None).AsTask();

    private TokenValidator CreateValidator(IssuerConfig issuer)
        => new(new IdentitySettings { Issuers = [issuer] }, _time);

    private static IssuerConfig OidcIssuer(string authority) => new()
    {
        Name = "dev",
        Type = IssuerType.Oidc,
        Authority = authority,
        Audiences = [Audience],
        RequireHttpsMetadata = false,
    };

    private static IssuerConfig EntraIssuer(LocalIdentityProvider provider) => new()
    {
        Name = "corp",
        Type = IssuerType.Entra,
        Instance = provider.BaseUrl + "/",
        TenantId = TenantId,
        Audiences = [EntraAudience],
        RequireHttpsMetadata = false,
    };
}
