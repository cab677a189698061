using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using ZtGateway.DevTools;
using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Engine;
using ZtGateway.Sources.Identity;

namespace ZtGateway.Tests.Dev;

/// <summary>Tokens minted by <see cref="DevTokens"/> must pass the gateway's own verifier, unchanged.</summary>
public sealed class DevTokensTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("ztgw-devtokens-").FullName;
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 1, 9, 0, 0, TimeSpan.Zero));

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Mints_UserToken_ThatValidates_AgainstTheGeneratedJwks()
    {
        var (validator, credentials) = CreateRsaIssuer();
        using var owned = validator;
        var request = new DevTokenRequest
        {
            Subject = "alice",
            Groups = ["hr-staff"],
            Roles = ["PayrollAdmin"],
            Amr = ["pwd", "hwk"],
            Acr = "phr",
            AuthAge = TimeSpan.FromMinutes(20),
        };

        var outcome = await validator.ValidateAsync("Bearer " + DevTokens.Mint(request, credentials, _time), CancellationToken.None);

        Assert.Equal(TokenStatus.Valid, outcome.Status);
        var principal = outcome.Principal!;
        Assert.Equal(PrincipalKind.User, principal.Kind);
        Assert.Equal("alice", principal.Subject);
        Assert.Equal("https://idp.example", principal.Issuer);
        Assert.Equal(["hr-staff"], principal.Groups);
        Assert.Equal(["PayrollAdmin"], principal.Roles);
        Assert.Equal(["pwd", "hwk"], principal.Amr);
        Assert.Equal("phr", principal.Acr);
        Assert.Equal(_time.GetUtcNow() - TimeSpan.FromMinutes(20), principal.AuthTime);
        Assert.Equal(_time.GetUtcNow() + TimeSpan.FromHours(1), outcome.Expires);
    }

    [Fact]
    public async Task Mints_WithEcKey()
    {
        var jwks = Path.Join(_directory, "ec.jwks.json");
        DevKeys.CreateEc(DevKeys.PrivateKeyPathFor(jwks), jwks, overwrite: false);
        using var validator = CreateValidator(jwks);

        var token = DevTokens.Mint(new DevTokenRequest(), DevKeys.LoadSigningCredentials(DevKeys.PrivateKeyPathFor(jwks)), _time);
        var outcome = await validator.ValidateAsync("Bearer " + token, CancellationToken.None);

        Assert.Equal(TokenStatus.Valid, outcome.Status);
        Assert.Equal("ES256", new JsonWebToken(token).Alg);
    }

    [Fact]
    public async Task Mints_DefaultUserToken_ThatPassesStrictDefaults()
    {
        var (validator, credentials) = CreateRsaIssuer();
        using var owned = validator;

        var outcome = await validator.ValidateAsync("Bearer " + DevTokens.Mint(new DevTokenRequest(), credentials, _time), CancellationToken.None);

        Assert.Equal(TokenStatus.Valid, outcome.Status);
        Assert.Contains("mfa", outcome.Principal!.Amr);
        Assert.Equal(_time.GetUtcNow(), outcome.Principal.AuthTime);
    }

    [Fact]
    public async Task Omits_AuthTime_WhenAuthAgeIsNull()
    {
        var (validator, credentials) = CreateRsaIssuer();
        using var owned = validator;

        var token = DevTokens.Mint(new DevTokenRequest { AuthAge = null, Amr = [] }, credentials, _time);
        var outcome = await validator.ValidateAsync("Bearer " + token, CancellationToken.None);

        Assert.Equal(TokenStatus.Valid, outcome.Status);
        Assert.Null(outcome.Principal!.AuthTime);
        Assert.Empty(outcome.Principal.Amr);
        Assert.False(new JsonWebToken(token).TryGetClaim("auth_time", out _));
    }

    [Theory]
    [InlineData("hr-portal", "hr-portal")]
    [InlineData("spiffe://corp.example/finance/ledger-sync", null)]
    public async Task Mints_WorkloadToken(string workload, string? expectedAzp)
    {
        var (validator, credentials) = CreateRsaIssuer();
        using var owned = validator;

        var token = DevTokens.Mint(new DevTokenRequest { Subject = "ignored", Workload = workload, Roles = ["Ledger.Sync"] }, credentials, _time);
        var outcome = await validator.ValidateAsync("Bearer " + token, CancellationToken.None);

        Assert.Equal(TokenStatus.Valid, outcome.Status);
        Assert.Equal(PrincipalKind.Workload, outcome.Principal!.Kind);
        Assert.Equal(workload, outcome.Principal.Subject);
        Assert.Equal(workload, outcome.Principal.WorkloadId);
        Assert.Empty(outcome.Principal.Amr);
        Assert.Equal(["Ledger.Sync"], outcome.Principal.Roles);
        var jwt = new JsonWebToken(token);
        Assert.Equal(expectedAzp, jwt.TryGetPayloadValue<string>("azp", out var azp) ? azp : null);
        Assert.False(jwt.TryGetClaim("amr", out _));
    }

    [Fact]
    public async Task Mints_TokenThatExpires_AfterItsLifetime()
    {
        var (validator, credentials) = CreateRsaIssuer();
        using var owned = validator;
        var token = DevTokens.Mint(new DevTokenRequest { Lifetime = TimeSpan.FromMinutes(5) }, credentials, _time);

        _time.Advance(TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(61));
        var outcome = await validator.ValidateAsync("Bearer " + token, CancellationToken.None);

        Assert.Equal(TokenStatus.Expired, outcome.Status);
    }

    [Fact]
    public async Task Mints_TokenForTheRequestedIssuerAndAudience()
    {
        var (validator, credentials) = CreateRsaIssuer();
        using var owned = validator;

        var otherAudience = DevTokens.Mint(new DevTokenRequest { Audience = "elsewhere" }, credentials, _time);
        var otherIssuer = DevTokens.Mint(new DevTokenRequest { Issuer = "https://other.example" }, credentials, _time);

        Assert.Equal(TokenStatus.Invalid, (await validator.ValidateAsync("Bearer " + otherAudience, CancellationToken.None)).Status);
        Assert.Equal(TokenStatus.Invalid, (await validator.ValidateAsync("Bearer " + otherIssuer, CancellationToken.None)).Status);
        Assert.Equal("https://other.example", new JsonWebToken(otherIssuer).Issuer);
    }

    private (TokenValidator Validator, Microsoft.IdentityModel.Tokens.SigningCredentials Credentials) CreateRsaIssuer()
    {
        var jwks = Path.Join(_directory, "idp.jwks.json");
        if (!File.Exists(jwks))
        {
            DevKeys.CreateRsa(DevKeys.PrivateKeyPathFor(jwks), jwks, overwrite: false);
        }

        return (CreateValidator(jwks), DevKeys.LoadSigningCredentials(DevKeys.PrivateKeyPathFor(jwks)));
    }

    private TokenValidator CreateValidator(string jwksFile) => new(
        new IdentitySettings
        {
            Issuers = [new IssuerConfig { Name = "offline", Type = IssuerType.Jwks, Issuer = "https://idp.example", JwksFile = jwksFile, Audiences = ["ztgw"] }],
        },
        _time);
}
