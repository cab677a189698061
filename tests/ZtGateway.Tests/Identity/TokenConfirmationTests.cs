using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Engine;
using ZtGateway.Sources.Identity;

namespace ZtGateway.Tests.Identity;

/// <summary>
/// The <c>cnf</c> claim of RFC 8705 on real signed tokens: read by the verifier, kept in the remembered verdict, and
/// compared with the connection's certificate on every request, after the cache.
/// </summary>
public sealed class TokenConfirmationTests : IClassFixture<SharedKeys>, IDisposable
{
    private const string Issuer = "https://idp.example";
    private const string Audience = "ztgw";

    private readonly string _directory = Directory.CreateTempSubdirectory("ztgw-cnf-").FullName;
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 1, 9, 0, 0, TimeSpan.Zero));
    private readonly TestKey _key;
    private readonly TokenValidator _validator;
    private readonly X509Certificate2 _certificate = TestCertificates.Create([]);
    private readonly X509Certificate2 _otherCertificate = TestCertificates.Create([]);

    public TokenConfirmationTests(SharedKeys keys)
    {
        _key = keys.Primary;
        var jwks = Path.Join(_directory, "idp.jwks.json");
        File.WriteAllText(jwks, TestKey.JwksJson(_key));
        _validator = new TokenValidator(
            new IdentitySettings
            {
                Issuers = [new IssuerConfig { Name = "corp", Type = IssuerType.Jwks, Issuer = Issuer, JwksFile = jwks, Audiences = [Audience] }],
            },
            _time);
    }

    public void Dispose()
    {
        _validator.Dispose();
        _certificate.Dispose();
        _otherCertificate.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task ATokenWithoutCnf_IsABearerToken()
    {
        var outcome = await ValidateAsync(Token(cnf: null));

        Assert.Equal(TokenStatus.Valid, outcome.Status);
        Assert.Null(outcome.ConfirmationThumbprint);
        Assert.Equal(CredentialBinding.None, outcome.Binding);
    }

    [Fact]
    public async Task ATokenBoundToACertificate_CarriesItsThumbprint()
    {
        var thumbprint = TestCertificates.Thumbprint(_certificate);

        var outcome = await ValidateAsync(Token(new Dictionary<string, object> { ["x5t#S256"] = thumbprint }));

        Assert.Equal(TokenStatus.Valid, outcome.Status);
        Assert.Equal(thumbprint, outcome.ConfirmationThumbprint);
    }

    public static TheoryData<string, string> MalformedCnf => new()
    {
        { "\"cnf\":\"abc\"", "cnf is not a JSON object" },
        { "\"cnf\":[1]", "cnf is not a JSON object" },
        { "\"cnf\":{}", "cnf has no x5t#S256; other confirmation methods are not supported" },
        { "\"cnf\":{\"jkt\":\"0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I\"}", "cnf has no x5t#S256; other confirmation methods are not supported" },
        { "\"cnf\":{\"x5t#S256\":42}", "cnf x5t#S256 is not a base64url SHA-256 thumbprint (43 characters)" },
        { "\"cnf\":{\"x5t#S256\":\"bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg\"}", "cnf x5t#S256 is not a base64url SHA-256 thumbprint (43 characters)" },
        { "\"cnf\":{\"x5t#S256\":\"bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2=\"}", "cnf x5t#S256 is not a base64url SHA-256 thumbprint (43 characters)" },
        { "\"cnf\":{\"x5t#S256\":\"bwcK0esc3ACC3DB2Y5/lESsXE8o9ltc05O89jdN+dg2\"}", "cnf x5t#S256 is not a base64url SHA-256 thumbprint (43 characters)" },
        { "\"cnf\":{\"x5t#S256\":\"bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg=\"}", "cnf x5t#S256 is not a base64url SHA-256 thumbprint (43 characters)" },
        { "\"cnf\":{\"x5t#S256\":\"\"}", "cnf x5t#S256 is not a base64url SHA-256 thumbprint (43 characters)" },
        { "\"cnf\":{\"x5t#S256\":null}", "cnf x5t#S256 is not a base64url SHA-256 thumbprint (43 characters)" },
        { "\"cnf\":{\"x5t#S256\":\"bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2\",\"x5t#S256\":\"bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2\"}", "cnf x5t#S256 is written twice" },
        { "\"cnf\":{\"x5t#S256\":\"bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2\"},\"cnf\":{\"x5t#S256\":\"bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2\"}", "cnf is written twice" },
    };

    [Theory]
    [MemberData(nameof(MalformedCnf))]
    public async Task AMalformedCnf_IsTokenInvalid(string member, string detail)
    {
        var outcome = await ValidateAsync(Raw(member));

        Assert.Equal(TokenStatus.Invalid, outcome.Status);
        Assert.Null(outcome.Principal);
        Assert.Equal(detail, outcome.Detail);
        Assert.False(outcome.Transient);
    }

    [Fact]
    public async Task TheSpareBitsOfTheLastCharacter_DoNotMakeAnotherThumbprint()
    {
        // RFC 8705's own example sets them: the bytes are what binds, and they are compared in one spelling.
        var outcome = await ValidateAsync(Raw("\"cnf\":{\"x5t#S256\":\"bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2\"}"));

        Assert.Equal(TokenStatus.Valid, outcome.Status);
        Assert.Equal("bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg0", outcome.ConfirmationThumbprint);
    }

    [Fact]
    public async Task TheThumbprint_IsRemembered_AndComparedOnEveryRequest()
    {
        using var cache = new CachingTokenValidator(_validator, _time);
        var header = TestTokens.Bearer(Token(new Dictionary<string, object> { ["x5t#S256"] = TestCertificates.Thumbprint(_certificate) }));

        var first = await cache.ValidateAsync(header, CancellationToken.None);
        var cached = await cache.ValidateAsync(header, CancellationToken.None);

        Assert.Same(first, cached);
        Assert.Equal(TestCertificates.Thumbprint(_certificate), cached.ConfirmationThumbprint);

        var withIt = WorkloadCertificates.Resolve(cached, _certificate, settings: null);
        var withAnother = WorkloadCertificates.Resolve(cached, _otherCertificate, settings: null);
        var withNone = WorkloadCertificates.Resolve(cached, certificate: null, settings: null);

        Assert.Equal((TokenStatus.Valid, CredentialBinding.BoundToken), (withIt.Status, withIt.Binding));
        Assert.Equal((TokenStatus.Invalid, true), (withAnother.Status, withAnother.BoundToAnotherCertificate));
        Assert.Equal((TokenStatus.Invalid, true), (withNone.Status, withNone.BoundToAnotherCertificate));
        Assert.Null(withAnother.Principal);

        // The refusal of one request is not the token's verdict: the next request with the certificate is allowed.
        var again = await cache.ValidateAsync(header, CancellationToken.None);
        Assert.Equal(TokenStatus.Valid, WorkloadCertificates.Resolve(again, _certificate, settings: null).Status);
    }

    private Task<TokenValidationOutcome> ValidateAsync(string token) =>
        _validator.ValidateAsync(TestTokens.Bearer(token), CancellationToken.None).AsTask();

    private string Token(Dictionary<string, object>? cnf)
    {
        var claims = TestTokens.Claims(Issuer, Audience, _time.GetUtcNow(), subject: "alice");
        if (cnf is not null)
        {
            claims["cnf"] = cnf;
        }

        return TestTokens.Sign(claims, _key.Credentials);
    }

    // A payload written by hand, so that shapes a serializer would never produce (a repeated member) can be signed.
    private string Raw(string member)
    {
        var claims = JsonSerializer.Serialize(TestTokens.Claims(Issuer, Audience, _time.GetUtcNow(), subject: "alice"));
        return new JsonWebTokenHandler().CreateToken(claims[..^1] + "," + member + "}", _key.Credentials);
    }
}
