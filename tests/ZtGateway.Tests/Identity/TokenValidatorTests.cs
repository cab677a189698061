using System.Text;
using Microsoft.Extensions.Time.Testing;
using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Engine;
using ZtGateway.Sources.Identity;

namespace ZtGateway.Tests.Identity;

/// <summary>Token verification against a <c>type: jwks</c> issuer: header parsing, mapping and every refusal.</summary>
public sealed class TokenValidatorTests : IClassFixture<SharedKeys>, IDisposable
{
    private const string Issuer = "https://idp.example";
    private const string Audience = "ztgw";

    private readonly string _directory = Directory.CreateTempSubdirectory("ztgw-identity-").FullName;
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 1, 9, 0, 0, TimeSpan.Zero));
    private readonly TestKey _key;
    private readonly TestKey _otherKey;
    private readonly TokenValidator _validator;

    public TokenValidatorTests(SharedKeys keys)
    {
        _key = keys.Primary;
        _otherKey = keys.Other;
        _validator = CreateValidator(JwksIssuer("offline", Issuer, WriteJwks("idp.jwks.json", _key)));
    }

    public void Dispose()
    {
        _validator.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task Accepts_ValidUserToken_WithAllPrincipalFields()
    {
        var now = _time.GetUtcNow();
        var claims = TestTokens.Claims(Issuer, Audience, now, subject: "alice@corp.example");
        claims["groups"] = new[] { "hr-staff", "all-staff" };
        claims["roles"] = new[] { "PayrollAdmin" };
        claims["amr"] = new[] { "pwd", "mfa" };
        claims["acr"] = "phr";
        claims["auth_time"] = (now - TimeSpan.FromMinutes(5)).ToUnixTimeSeconds();
        claims["sid"] = "session-42";
        claims["azp"] = "hr-portal";

        var outcome = await ValidateAsync(TestTokens.Sign(claims, _key.Credentials));

        Assert.Equal(TokenStatus.Valid, outcome.Status);
        Assert.Equal("offline", outcome.IssuerName);
        Assert.Equal(now + TimeSpan.FromHours(1), outcome.Expires);
        var principal = Assert.IsType<Principal>(outcome.Principal);
        Assert.Equal(PrincipalKind.User, principal.Kind);
        Assert.Equal("alice@corp.example", principal.Subject);
        Assert.Equal(Issuer, principal.Issuer);
        Assert.Null(principal.WorkloadId);
        Assert.Equal(["hr-staff", "all-staff"], principal.Groups);
        Assert.Equal(["PayrollAdmin"], principal.Roles);
        Assert.Equal(["pwd", "mfa"], principal.Amr);
        Assert.Equal("phr", principal.Acr);
        Assert.Equal(now - TimeSpan.FromMinutes(5), principal.AuthTime);
        Assert.Equal(now, principal.IssuedAt);
        Assert.Equal("session-42", principal.SessionId);
    }

    [Fact]
    public async Task Accepts_EcSignedToken()
    {
        using var ec = TestKey.Ec();
        using var validator = CreateValidator(JwksIssuer("ec", Issuer, WriteJwks("ec.jwks.json", ec)));

        var outcome = await validator.ValidateAsync(
            TestTokens.Bearer(TestTokens.Sign(TestTokens.Claims(Issuer, Audience, _time.GetUtcNow()), ec.Credentials)),
            CancellationToken.None);

        Assert.Equal(TokenStatus.Valid, outcome.Status);
    }

    [Fact]
    public async Task Maps_SingleStringGroupsRolesAndAmr()
    {
        var claims = TestTokens.Claims(Issuer, Audience, _time.GetUtcNow());
        claims["groups"] = "hr-staff";
        claims["roles"] = "Reader";
        claims["amr"] = "otp";

        var outcome = await ValidateAsync(TestTokens.Sign(claims, _key.Credentials));

        Assert.Equal(TokenStatus.Valid, outcome.Status);
        Assert.Equal(["hr-staff"], outcome.Principal!.Groups);
        Assert.Equal(["Reader"], outcome.Principal.Roles);
        Assert.Equal(["otp"], outcome.Principal.Amr);
    }

    [Theory]
    [InlineData("spiffe://corp.example/finance/ledger-sync", null, null, null, "spiffe://corp.example/finance/ledger-sync")]
    [InlineData("8c1f0e5a-sp", "app", "ledger-client", null, "ledger-client")]
    [InlineData("8c1f0e5a-sp", "app", null, "ledger-client-v1", "ledger-client-v1")]
    [InlineData("hr-portal", null, "hr-portal", null, "hr-portal")]
    public async Task Detects_Workload(string subject, string? idtyp, string? azp, string? appid, string expectedWorkloadId)
    {
        var claims = TestTokens.Claims(Issuer, Audience, _time.GetUtcNow(), subject);
        claims["idtyp"] = idtyp;
        claims["azp"] = azp;
        claims["appid"] = appid;

        var outcome = await ValidateAsync(TestTokens.Sign(claims, _key.Credentials));

        Assert.Equal(TokenStatus.Valid, outcome.Status);
        Assert.Equal(PrincipalKind.Workload, outcome.Principal!.Kind);
        Assert.Equal(expectedWorkloadId, outcome.Principal.WorkloadId);
    }

    [Fact]
    public async Task Detects_Workload_WhenSubEqualsClientId()
    {
        var claims = TestTokens.Claims(Issuer, Audience, _time.GetUtcNow(), "batch-runner");
        claims["client_id"] = "batch-runner";

        var outcome = await ValidateAsync(TestTokens.Sign(claims, _key.Credentials));

        Assert.Equal(PrincipalKind.Workload, outcome.Principal!.Kind);
        Assert.Equal("batch-runner", outcome.Principal.WorkloadId);
    }

    [Fact]
    public async Task Treats_UserWithClientApp_AsUser()
    {
        var claims = TestTokens.Claims(Issuer, Audience, _time.GetUtcNow(), "alice");
        claims["azp"] = "hr-portal";
        claims["idtyp"] = "user";

        var outcome = await ValidateAsync(TestTokens.Sign(claims, _key.Credentials));

        Assert.Equal(PrincipalKind.User, outcome.Principal!.Kind);
        Assert.Null(outcome.Principal.WorkloadId);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("Basic dXNlcjpwYXNz")]
    [InlineData("Bearerabc.def.ghi")]
    [InlineData("DPoP abc.def.ghi")]
    public async Task Reports_Missing_WithoutBearerCredentials(string? header)
    {
        var outcome = await _validator.ValidateAsync(header, CancellationToken.None);

        Assert.Equal(TokenStatus.Missing, outcome.Status);
        Assert.Null(outcome.Principal);
    }

    [Theory]
    [InlineData("Bearer")]
    [InlineData("Bearer    ")]
    [InlineData("Bearer not-a-jwt")]
    [InlineData("Bearer abc.def")]
    [InlineData("Bearer !!!.@@@.###")]
    [InlineData("Bearer eyJhbGciOiJSUzI1NiJ9.bm90LWpzb24.c2ln")]
    [InlineData("Bearer a.b.c.d.e")]
    public async Task Refuses_EmptyOrMalformedToken_AsInvalid(string header)
    {
        var outcome = await _validator.ValidateAsync(header, CancellationToken.None);

        Assert.Equal(TokenStatus.Invalid, outcome.Status);
        Assert.Null(outcome.Principal);
    }

    [Theory]
    [InlineData("bearer ")]
    [InlineData("BEARER ")]
    [InlineData("Bearer\t")]
    public async Task Accepts_BearerScheme_CaseInsensitively(string prefix)
    {
        var token = TestTokens.Sign(TestTokens.Claims(Issuer, Audience, _time.GetUtcNow()), _key.Credentials);

        var outcome = await _validator.ValidateAsync(prefix + token, CancellationToken.None);

        Assert.Equal(TokenStatus.Valid, outcome.Status);
    }

    [Fact]
    public async Task Refuses_AlgNone()
    {
        var token = TestTokens.Unsigned(TestTokens.Claims(Issuer, Audience, _time.GetUtcNow()), _key.Kid);

        var outcome = await ValidateAsync(token);

        Assert.Equal(TokenStatus.Invalid, outcome.Status);
        Assert.Equal("unsigned token", outcome.Detail);
    }

    [Fact]
    public async Task Refuses_Hs256_KeyedWithThePublicKey()
    {
        var claims = TestTokens.Claims(Issuer, Audience, _time.GetUtcNow());
        var pemSecret = TestTokens.Hs256(claims, Encoding.ASCII.GetBytes(_key.PublicKeyPem), _key.Kid);
        var modulusSecret = TestTokens.Hs256(claims, Convert.FromBase64String(ToBase64(_key.PublicJwk["n"])), _key.Kid);

        Assert.Equal(TokenStatus.Invalid, (await ValidateAsync(pemSecret)).Status);
        Assert.Equal(TokenStatus.Invalid, (await ValidateAsync(modulusSecret)).Status);
    }

    [Fact]
    public async Task Refuses_UnknownIssuer()
    {
        var token = TestTokens.Sign(TestTokens.Claims("https://evil.example", Audience, _time.GetUtcNow()), _key.Credentials);

        var outcome = await ValidateAsync(token);

        Assert.Equal(TokenStatus.Invalid, outcome.Status);
        Assert.Null(outcome.IssuerName);
        Assert.Equal("unknown issuer", outcome.Detail);
    }

    [Fact]
    public async Task Refuses_IssuerVariant_NotConfigured()
    {
        var token = TestTokens.Sign(TestTokens.Claims(Issuer + "/", Audience, _time.GetUtcNow()), _key.Credentials);

        Assert.Equal(TokenStatus.Invalid, (await ValidateAsync(token)).Status);
    }

    [Fact]
    public async Task Refuses_TokenClaimingOneIssuer_SignedWithAnotherIssuersKey()
    {
        using var validator = CreateValidator(
            JwksIssuer("offline", Issuer, WriteJwks("a.jwks.json", _key)),
            JwksIssuer("partner", "https://partner.example", WriteJwks("b.jwks.json", _otherKey)));
        var forged = TestTokens.Sign(TestTokens.Claims(Issuer, Audience, _time.GetUtcNow()), _otherKey.Credentials);
        var genuine = TestTokens.Sign(TestTokens.Claims("https://partner.example", Audience, _time.GetUtcNow()), _otherKey.Credentials);

        var refused = await validator.ValidateAsync(TestTokens.Bearer(forged), CancellationToken.None);
        var accepted = await validator.ValidateAsync(TestTokens.Bearer(genuine), CancellationToken.None);

        Assert.Equal(TokenStatus.Invalid, refused.Status);
        Assert.Equal("offline", refused.IssuerName);
        Assert.Equal(TokenStatus.Valid, accepted.Status);
        Assert.Equal("partner", accepted.IssuerName);
    }

    [Fact]
    public async Task Refuses_WrongAudience()
    {
        var token = TestTokens.Sign(TestTokens.Claims(Issuer, "someone-else", _time.GetUtcNow()), _key.Credentials);

        var outcome = await ValidateAsync(token);

        Assert.Equal(TokenStatus.Invalid, outcome.Status);
        Assert.Equal("audience not accepted", outcome.Detail);
        Assert.Null(outcome.Expires);
    }

    [Fact]
    public async Task Reports_Expired_AfterExpiryPlusClockSkew()
    {
        var token = TestTokens.Sign(TestTokens.Claims(Issuer, Audience, _time.GetUtcNow(), lifetime: TimeSpan.FromMinutes(10)), _key.Credentials);

        _time.Advance(TimeSpan.FromMinutes(10) + TimeSpan.FromSeconds(30));
        var withinSkew = await ValidateAsync(token);
        _time.Advance(TimeSpan.FromSeconds(31));
        var expired = await ValidateAsync(token);

        Assert.Equal(TokenStatus.Valid, withinSkew.Status);
        Assert.Equal(TokenStatus.Expired, expired.Status);
        Assert.Equal(_time.GetUtcNow() - TimeSpan.FromSeconds(61), expired.Expires);
        Assert.Null(expired.Principal);
        Assert.Equal("offline", expired.IssuerName);
    }

    [Fact]
    public async Task Refuses_NotYetValidToken_AsInvalid()
    {
        var claims = TestTokens.Claims(Issuer, Audience, _time.GetUtcNow());
        claims["nbf"] = (_time.GetUtcNow() + TimeSpan.FromMinutes(5)).ToUnixTimeSeconds();

        var outcome = await ValidateAsync(TestTokens.Sign(claims, _key.Credentials));

        Assert.Equal(TokenStatus.Invalid, outcome.Status);
        Assert.Equal("token not yet valid", outcome.Detail);
    }

    [Fact]
    public async Task Refuses_TokenIssuedInTheFuture_AsInvalid()
    {
        var claims = TestTokens.Claims(Issuer, Audience, _time.GetUtcNow() + TimeSpan.FromMinutes(5));
        claims.Remove("nbf");

        var outcome = await ValidateAsync(TestTokens.Sign(claims, _key.Credentials));

        Assert.Equal(TokenStatus.Invalid, outcome.Status);
        Assert.Equal("token not yet valid", outcome.Detail);
    }

    [Fact]
    public async Task Refuses_TokenWithoutExp()
    {
        var claims = TestTokens.Claims(Issuer, Audience, _time.GetUtcNow());
        claims.Remove("exp");

        Assert.Equal(TokenStatus.Invalid, (await ValidateAsync(TestTokens.Sign(claims, _key.Credentials))).Status);
    }

    [Fact]
    public async Task Refuses_TokenWithoutSub()
    {
        var token = TestTokens.Sign(TestTokens.Claims(Issuer, Audience, _time.GetUtcNow(), subject: null), _key.Credentials);

        var outcome = await ValidateAsync(token);

        Assert.Equal(TokenStatus.Invalid, outcome.Status);
        Assert.Equal("token has no sub", outcome.Detail);
    }

    [Fact]
    public async Task Refuses_UnknownKid()
    {
        var token = TestTokens.Sign(TestTokens.Claims(Issuer, Audience, _time.GetUtcNow()), _otherKey.Credentials);

        var outcome = await ValidateAsync(token);

        Assert.Equal(TokenStatus.Invalid, outcome.Status);
        Assert.Equal("no signing key with this kid", outcome.Detail);
    }

    [Fact]
    public async Task Refuses_KnownKid_WithSignatureFromAnotherKey()
    {
        var token = TestTokens.Sign(TestTokens.Claims(Issuer, Audience, _time.GetUtcNow()), _otherKey.CredentialsWithKid(_key.Kid));

        var outcome = await ValidateAsync(token);

        Assert.Equal(TokenStatus.Invalid, outcome.Status);
        Assert.Equal("signature invalid", outcome.Detail);
    }

    [Fact]
    public async Task Refuses_TamperedPayload()
    {
        var token = TestTokens.Sign(TestTokens.Claims(Issuer, Audience, _time.GetUtcNow(), "alice"), _key.Credentials);
        var parts = token.Split('.');
        var forgedClaims = TestTokens.Claims(Issuer, Audience, _time.GetUtcNow(), "admin");
        var forgedPayload = TestTokens.Unsigned(forgedClaims).Split('.')[1];

        var outcome = await ValidateAsync(parts[0] + "." + forgedPayload + "." + parts[2]);

        Assert.Equal(TokenStatus.Invalid, outcome.Status);
    }

    [Fact]
    public async Task Refuses_EveryToken_WhenJwksFileIsMissing()
    {
        using var validator = CreateValidator(JwksIssuer("offline", Issuer, Path.Join(_directory, "absent.jwks.json")));
        var token = TestTokens.Sign(TestTokens.Claims(Issuer, Audience, _time.GetUtcNow()), _key.Credentials);

        var outcome = await validator.ValidateAsync(TestTokens.Bearer(token), CancellationToken.None);

        Assert.Equal(TokenStatus.Invalid, outcome.Status);
        Assert.Equal("jwks file unreadable", outcome.Detail);
        Assert.Equal("offline", outcome.IssuerName);
    }

    [Theory]
    [InlineData("not json at all")]
    [InlineData("{\"keys\": []}")]
    [InlineData("{\"keys\": [{\"kty\": \"RSA\", \"kid\": \"x\"}]}")]
    public async Task Refuses_EveryToken_WhenJwksFileIsBad(string content)
    {
        var path = Path.Join(_directory, "bad.jwks.json");
        await File.WriteAllTextAsync(path, content);
        using var validator = CreateValidator(JwksIssuer("offline", Issuer, path));
        var token = TestTokens.Sign(TestTokens.Claims(Issuer, Audience, _time.GetUtcNow()), _key.Credentials);

        var outcome = await validator.ValidateAsync(TestTokens.Bearer(token), CancellationToken.None);

        Assert.Equal(TokenStatus.Invalid, outcome.Status);
        Assert.Equal("jwks file unreadable", outcome.Detail);
    }

    [Fact]
    public async Task Refuses_WhenIssuerHasNoAudiences()
    {
        using var validator = CreateValidator(JwksIssuer("offline", Issuer, WriteJwks("a.jwks.json", _key)) with { Audiences = [] });
        var token = TestTokens.Sign(TestTokens.Claims(Issuer, Audience, _time.GetUtcNow()), _key.Credentials);

        Assert.Equal(TokenStatus.Invalid, (await validator.ValidateAsync(TestTokens.Bearer(token), CancellationToken.None)).Status);
    }

    [Fact]
    public void Readiness_ReportsEachIssuer_JwksReadyOnlyWhenItsFileLoaded()
    {
        using var validator = CreateValidator(
            JwksIssuer("offline", Issuer, WriteJwks("ready.jwks.json", _key, _otherKey)),
            JwksIssuer("broken", "https://broken.example", Path.Join(_directory, "absent.jwks.json")),
            new IssuerConfig { Name = "half", Type = IssuerType.Oidc, Authority = "not a url", Audiences = [Audience] });

        var readiness = validator.GetReadiness().ToDictionary(r => r.Issuer);

        Assert.Equal(3, readiness.Count);
        Assert.True(readiness["offline"].Ready);
        Assert.Equal("2 signing key(s) from ready.jwks.json", readiness["offline"].Detail);
        Assert.Equal((false, "jwks file unreadable"), (readiness["broken"].Ready, readiness["broken"].Detail));
        Assert.False(readiness["half"].Ready);
    }

    private static string ToBase64(string base64Url)
    {
        var s = base64Url.Replace('-', '+').Replace('_', '/');
        return s.PadRight(s.Length + ((4 - (s.Length % 4)) % 4), '=');
    }

    private Task<TokenValidationOutcome> ValidateAsync(string token)
        => _validator.ValidateAsync(TestTokens.Bearer(token), CancellationToken.None).AsTask();

    private TokenValidator CreateValidator(params IssuerConfig[] issuers)
        => new(new IdentitySettings { Issuers = issuers, ClockSkew = TimeSpan.FromSeconds(60) }, _time);

    private static IssuerConfig JwksIssuer(string name, string issuer, string jwksFile) => new()
    {
        Name = name,
        Type = IssuerType.Jwks,
        Issuer = issuer,
        JwksFile = jwksFile,
        Audiences = [Audience],
    };

    private string WriteJwks(string fileName, params TestKey[] keys)
    {
        var path = Path.Join(_directory, fileName);
        File.WriteAllText(path, TestKey.JwksJson(keys));
        return path;
    }
}
