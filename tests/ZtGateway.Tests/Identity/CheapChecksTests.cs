using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.Tokens;
using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Engine;
using ZtGateway.Sources.Identity;

namespace ZtGateway.Tests.Identity;

/// <summary>
/// The checks made before any signature is checked: each refuses with its own detail, so the refusal is known to
/// come from the cheap check and not from the token handler (which says "signing key not found", "signature invalid").
/// </summary>
public sealed class CheapChecksTests : IClassFixture<SharedKeys>, IDisposable
{
    private const string Issuer = "https://idp.example";
    private const string Audience = "ztgw";

    private readonly string _directory = Directory.CreateTempSubdirectory("ztgw-cheap-").FullName;
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 1, 9, 0, 0, TimeSpan.Zero));
    private readonly TestKey _key;
    private readonly TestKey _otherKey;
    private readonly TokenValidator _validator;

    public CheapChecksTests(SharedKeys keys)
    {
        _key = keys.Primary;
        _otherKey = keys.Other;
        var jwks = Path.Join(_directory, "idp.jwks.json");
        File.WriteAllText(jwks, TestKey.JwksJson(_key));
        _validator = new TokenValidator(new IdentitySettings
        {
            Issuers = [new IssuerConfig { Name = "offline", Type = IssuerType.Jwks, Issuer = Issuer, JwksFile = jwks, Audiences = [Audience] }],
        }, _time);
    }

    public void Dispose()
    {
        _validator.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Theory]
    [InlineData("abc.def.ghi", null)]
    [InlineData("abc.def.", null)]
    [InlineData("abc.def", "malformed token")]
    [InlineData("abc", "malformed token")]
    [InlineData(".def.ghi", "malformed token")]
    [InlineData("abc..ghi", "malformed token")]
    [InlineData("a.b.c.d", "malformed token")]
    [InlineData("a.b.c.d.e", "encrypted tokens are not accepted")]
    [InlineData("ab+c.def.ghi", "malformed token")]
    [InlineData("abc.de/f.ghi", "malformed token")]
    [InlineData("abc.def.gh=", "malformed token")]
    [InlineData("abc.def.g hi", "malformed token")]
    [InlineData("abc.dé.ghi", "malformed token")]
    public void Shape_IsThreeBase64UrlParts(string token, string? failure)
    {
        Assert.Equal(failure, CompactJws.ShapeFailure(token));
    }

    [Fact]
    public void Shape_RefusesAnythingLongerThanTheCap_BeforeLookingAtIt()
    {
        var atCap = new string('a', CompactJws.MaxLength - 4) + ".b.c";
        var overCap = atCap + "c";

        Assert.Null(CompactJws.ShapeFailure(atCap));
        Assert.Equal("token longer than 16 KiB", CompactJws.ShapeFailure(overCap));
    }

    [Fact]
    public async Task OversizedToken_IsRefused_WithoutBeingRead()
    {
        // A real signed token, padded with a claim until it passes the cap: the signature would verify.
        var claims = TestTokens.Claims(Issuer, Audience, _time.GetUtcNow());
        claims["padding"] = new string('x', CompactJws.MaxLength);
        var token = TestTokens.Sign(claims, _key.Credentials);

        var outcome = await ValidateAsync(token);

        Assert.Equal((TokenStatus.Invalid, "token longer than 16 KiB"), (outcome.Status, outcome.Detail));
    }

    [Theory]
    [InlineData("!!!.@@@.###")]
    [InlineData("abc.def")]
    [InlineData("a.b.c.d.e")]
    public async Task BadShape_IsRefusedAsInvalid_WithoutAnIssuer(string token)
    {
        var outcome = await ValidateAsync(token);

        Assert.Equal(TokenStatus.Invalid, outcome.Status);
        Assert.Null(outcome.IssuerName);
        Assert.Equal(CompactJws.ShapeFailure(token), outcome.Detail);
    }

    [Fact]
    public async Task HeaderThatIsNotJson_IsMalformed()
    {
        var token = Base64UrlEncoder.Encode("not json") + "." + Base64UrlEncoder.Encode("{}") + ".c2ln";

        var outcome = await ValidateAsync(token);

        Assert.Equal((TokenStatus.Invalid, "malformed token"), (outcome.Status, outcome.Detail));
    }

    [Fact]
    public async Task UnknownIssuer_IsRefused_BeforeItsSignatureIsLookedAt()
    {
        var outcome = await ValidateAsync(TestTokens.Sign(TestTokens.Claims("https://evil.example", Audience, _time.GetUtcNow()), _key.Credentials));

        Assert.Equal((TokenStatus.Invalid, "unknown issuer", null), (outcome.Status, outcome.Detail, outcome.IssuerName));
    }

    [Fact]
    public async Task SymmetricAlgorithm_IsRefused_BeforeTheSignature()
    {
        var token = TestTokens.Hs256(TestTokens.Claims(Issuer, Audience, _time.GetUtcNow()), Encoding.ASCII.GetBytes("secret"), _key.Kid);

        var outcome = await ValidateAsync(token);

        Assert.Equal((TokenStatus.Invalid, "algorithm not accepted: HS256"), (outcome.Status, outcome.Detail));
    }

    [Fact]
    public async Task StaticKeySet_RefusesAnUnknownKid_WithoutASignatureCheck()
    {
        var outcome = await ValidateAsync(TestTokens.Sign(TestTokens.Claims(Issuer, Audience, _time.GetUtcNow()), _otherKey.Credentials));

        Assert.Equal((TokenStatus.Invalid, "no signing key with this kid", "offline"), (outcome.Status, outcome.Detail, outcome.IssuerName));
    }

    [Fact]
    public async Task StaticKeySet_RefusesATokenNamingNoKey()
    {
        var outcome = await ValidateAsync(SignWithHeader(new Dictionary<string, object> { ["alg"] = "RS256", ["typ"] = "JWT" }));

        Assert.Equal((TokenStatus.Invalid, "no signing key with this kid"), (outcome.Status, outcome.Detail));
    }

    [Fact]
    public async Task StaticKeySet_LeavesAThumbprintToTheHandler()
    {
        // No kid but an x5t: the handler may match keys by thumbprint, so the cheap check does not decide.
        var outcome = await ValidateAsync(SignWithHeader(new Dictionary<string, object> { ["alg"] = "RS256", ["typ"] = "JWT", ["x5t"] = "bm90LWEta2V5" }));

        Assert.Equal((TokenStatus.Invalid, "signing key not found"), (outcome.Status, outcome.Detail));
    }

    [Fact]
    public async Task KnownKid_GoesOnToTheSignatureCheck()
    {
        var forged = await ValidateAsync(TestTokens.Sign(TestTokens.Claims(Issuer, Audience, _time.GetUtcNow()), _otherKey.CredentialsWithKid(_key.Kid)));
        var genuine = await ValidateAsync(TestTokens.Sign(TestTokens.Claims(Issuer, Audience, _time.GetUtcNow()), _key.Credentials));

        Assert.Equal((TokenStatus.Invalid, "signature invalid"), (forged.Status, forged.Detail));
        Assert.Equal(TokenStatus.Valid, genuine.Status);
    }

    [Fact]
    public async Task KidIsMatched_WithoutRegardToCase_SoTheHandlerHasTheLastWord()
    {
        var token = TestTokens.Sign(TestTokens.Claims(Issuer, Audience, _time.GetUtcNow()), _key.CredentialsWithKid(_key.Kid.ToUpperInvariant()));

        var outcome = await ValidateAsync(token);

        Assert.NotEqual("no signing key with this kid", outcome.Detail);
    }

    // A token signed with the primary key whose header is exactly the one given (no kid unless named).
    private string SignWithHeader(Dictionary<string, object> header)
    {
        var input = Base64UrlEncoder.Encode(JsonSerializer.SerializeToUtf8Bytes(header)) + "."
            + Base64UrlEncoder.Encode(JsonSerializer.SerializeToUtf8Bytes(TestTokens.Claims(Issuer, Audience, _time.GetUtcNow())));
        var provider = _key.Key.CryptoProviderFactory.CreateForSigning(_key.Key, SecurityAlgorithms.RsaSha256);
        try
        {
            return input + "." + Base64UrlEncoder.Encode(provider.Sign(Encoding.ASCII.GetBytes(input)));
        }
        finally
        {
            _key.Key.CryptoProviderFactory.ReleaseSignatureProvider(provider);
        }
    }

    private Task<TokenValidationOutcome> ValidateAsync(string token)
        => _validator.ValidateAsync(TestTokens.Bearer(token), CancellationToken.None).AsTask();
}
