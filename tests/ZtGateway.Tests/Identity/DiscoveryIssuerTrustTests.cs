using Microsoft.Extensions.Time.Testing;
using ZtGateway.Identity;
using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Engine;

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
