using Microsoft.Extensions.Time.Testing;
using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Engine;
using ZtGateway.Sources.Identity;

namespace ZtGateway.Tests.Identity;

/// <summary>
/// An expired token is reported <see cref="TokenStatus.Expired"/>, with its <c>exp</c>, only when its signature verified.
/// IdentityModel checks the lifetime of a token whose key it cannot find before it gives up on the signature, so a
/// forged token with an old <c>exp</c> came back "expired", repeating the forger's <c>exp</c> (found by fuzz/ target token).
/// </summary>
public sealed class TokenValidatorForgedExpiryTests : IClassFixture<SharedKeys>, IDisposable
{
    private const string Issuer = "https://idp.example";
    private const string Audience = "ztgw";

    private readonly string _directory = Directory.CreateTempSubdirectory("ztgw-forged-expiry-").FullName;
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 1, 9, 0, 0, TimeSpan.Zero));
    private readonly TestKey _key;
    private readonly TestKey _otherKey;
    private readonly TokenValidator _validator;

    public TokenValidatorForgedExpiryTests(SharedKeys keys)
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

    [Fact]
    public async Task Refuses_AnExpiredTokenOfAnUnknownKey_AsInvalid()
    {
        var token = TestTokens.Sign(ExpiredClaims(), _otherKey.Credentials);

        var outcome = await ValidateAsync(token);

        Assert.Equal(TokenStatus.Invalid, outcome.Status);
        Assert.Contains("signing key", outcome.Detail, StringComparison.Ordinal);
        Assert.Null(outcome.Expires);
        Assert.Null(outcome.Principal);
    }

    [Fact]
    public async Task Refuses_AnExpiredTokenSignedByAnotherKeyUnderTheTrustedKid_AsInvalid()
    {
        var token = TestTokens.Sign(ExpiredClaims(), _otherKey.CredentialsWithKid(_key.Kid));

        var outcome = await ValidateAsync(token);

        Assert.Equal(TokenStatus.Invalid, outcome.Status);
        Assert.Null(outcome.Expires);
    }

    [Fact]
    public async Task Refuses_AnExpiredUnsignedLookalike_AsInvalid()
    {
        // A valid header and claims with a signature that is only bytes: what the fuzzer sent.
        var signed = TestTokens.Sign(ExpiredClaims(), _otherKey.CredentialsWithKid("not-in-the-set"));
        var token = signed[..(signed.LastIndexOf('.') + 1)] + "c2ln";

        var outcome = await ValidateAsync(token);

        Assert.Equal(TokenStatus.Invalid, outcome.Status);
        Assert.Null(outcome.Expires);
    }

    [Fact]
    public async Task Reports_AGenuinelyExpiredToken_AsExpired_WithItsExp()
    {
        var claims = ExpiredClaims();
        var token = TestTokens.Sign(claims, _key.Credentials);

        var outcome = await ValidateAsync(token);

        Assert.Equal(TokenStatus.Expired, outcome.Status);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds((long)claims["exp"]!), outcome.Expires);
    }

    private Dictionary<string, object?> ExpiredClaims() =>
        TestTokens.Claims(Issuer, Audience, _time.GetUtcNow() - TimeSpan.FromHours(2), lifetime: TimeSpan.FromHours(1));

    private Task<TokenValidationOutcome> ValidateAsync(string token) =>
        _validator.ValidateAsync(TestTokens.Bearer(token), CancellationToken.None).AsTask();
}
