using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.Tokens;
using ZtGateway.Policy.Configuration;
using ZtGateway.Sources.Signals;

namespace ZtGateway.Tests.Signals;

public sealed class SecurityEventTokenVerifierTests : IDisposable
{
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);

    private readonly SetMinter _minter = new();
    private readonly FakeTimeProvider _time = new(Now);
    private readonly SecurityEventTokenVerifier _verifier;

    public SecurityEventTokenVerifierTests()
    {
        var settings = new SignalsSettings
        {
            Transmitters = [new KeySourceConfig { Issuer = SetMinter.Issuer, JwksFile = _minter.JwksFile, Audience = SetMinter.Audience }],
        };
        _verifier = new SecurityEventTokenVerifier(settings, TimeSpan.FromSeconds(60), _time, null, NullLogger.Instance);
    }

    public void Dispose()
    {
        _verifier.Dispose();
        _minter.Dispose();
    }

    private async Task<SetVerification> Verify(string set) => await _verifier.VerifyAsync(set, CancellationToken.None);

    [Fact]
    public async Task Accepts_AWellFormedSet()
    {
        var result = await Verify(_minter.Mint(Now));

        Assert.True(result.Succeeded, result.Description);
        Assert.Equal(SetMinter.Issuer, result.Transmitter!.Issuer);
        Assert.Equal(Now, result.IssuedAt);
        Assert.Equal("jti-1", result.Token!.Id);
    }

    [Theory]
    [InlineData("application/secevent+jwt")]
    [InlineData("SECEVENT+JWT")]
    public async Task Accepts_BothSpellingsOfTheSetType(string typ)
    {
        Assert.True((await Verify(_minter.Mint(Now, typ: typ))).Succeeded);
    }

    [Theory]
    [InlineData("JWT")]
    [InlineData(null)]
    public async Task Rejects_ATokenThatIsNotTypedAsASet(string? typ)
    {
        var result = await Verify(_minter.Mint(Now, typ: typ));

        Assert.Equal(SetErrors.InvalidRequest, result.Error);
    }

    [Fact]
    public async Task Rejects_ASignatureByAnotherKeyUnderTheTrustedKeyId()
    {
        Assert.Equal(SetErrors.InvalidKey, (await Verify(_minter.Mint(Now, key: _minter.ForgedKey))).Error);
    }

    [Fact]
    public async Task Rejects_AnUnknownKey()
    {
        Assert.Equal(SetErrors.InvalidKey, (await Verify(_minter.Mint(Now, key: _minter.UnknownRsaKey, algorithm: SecurityAlgorithms.RsaSha256))).Error);
    }

    [Fact]
    public async Task Rejects_AlgNone()
    {
        var set = SetMinter.Unsigned(new { iss = SetMinter.Issuer, aud = SetMinter.Audience, iat = Now.ToUnixTimeSeconds(), jti = "x", events = new { } });

        Assert.Equal(SetErrors.InvalidKey, (await Verify(set)).Error);
    }

    [Fact]
    public async Task Rejects_ASymmetricSignature()
    {
        var header = Base64UrlEncoder.Encode("{\"alg\":\"HS256\",\"typ\":\"secevent+jwt\",\"kid\":\"k1\"}");
        var payload = SetMinter.Unsigned(new { iss = SetMinter.Issuer, aud = SetMinter.Audience, iat = Now.ToUnixTimeSeconds(), jti = "x" }).Split('.')[1];
        var signature = HMACSHA256.HashData(Encoding.ASCII.GetBytes("guessable"), Encoding.ASCII.GetBytes(header + "." + payload));

        Assert.Equal(SetErrors.InvalidKey, (await Verify(header + "." + payload + "." + Base64UrlEncoder.Encode(signature))).Error);
    }

    [Fact]
    public async Task Rejects_AnUnknownIssuer()
    {
        Assert.Equal(SetErrors.InvalidIssuer, (await Verify(_minter.Mint(Now, issuer: "https://rogue.test"))).Error);
    }

    [Theory]
    [InlineData("someone-else")]
    [InlineData(null)]
    public async Task Rejects_AnotherAudience(string? audience)
    {
        Assert.Equal(SetErrors.InvalidAudience, (await Verify(_minter.Mint(Now, audience: audience))).Error);
    }

    [Theory]
    [InlineData(-6 * 60 - 1)]
    [InlineData(2 * 60)]
    public async Task Rejects_AnIatOutsideTheAcceptedWindow(int offsetSeconds)
    {
        Assert.Equal(SetErrors.InvalidRequest, (await Verify(_minter.Mint(Now.AddSeconds(offsetSeconds)))).Error);
    }

    [Fact]
    public async Task Accepts_AnIatWithinMaxAgeAndSkew()
    {
        Assert.True((await Verify(_minter.Mint(Now.AddSeconds(-5 * 60 - 30)))).Succeeded);
    }

    [Fact]
    public async Task Rejects_AnExpiredSet()
    {
        Assert.Equal(SetErrors.InvalidRequest, (await Verify(_minter.Mint(Now.AddSeconds(-30), exp: Now.AddSeconds(-20 - 60)))).Error);
    }

    [Fact]
    public async Task Rejects_ASetWithoutJti()
    {
        Assert.Equal(SetErrors.InvalidRequest, (await Verify(_minter.Mint(Now, jti: null))).Error);
    }

    [Theory]
    [InlineData("")]
    [InlineData("garbage")]
    [InlineData("a.b.c")]
    [InlineData("a.b.c.d.e")]
    public async Task Rejects_ThingsThatAreNotJwts(string body)
    {
        Assert.Equal(SetErrors.InvalidRequest, (await Verify(body)).Error);
    }
}
