using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using ZtGateway.Upstream.Keys;
using ZtGateway.Upstream.Tests.Infrastructure;
using ZtGateway.Upstream.Validation;

namespace ZtGateway.Upstream.Tests.Validation;

public sealed class AssertionValidatorTests : IDisposable
{
    private readonly GatewayKey _key = new("gw-1");
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 1, 9, 0, 0, TimeSpan.Zero));
    private readonly AssertionValidator _validator;

    public AssertionValidatorTests()
    {
        var options = new ZtGatewayAssertionOptions
        {
            Issuer = AssertionMinter.Issuer,
            Audience = AssertionMinter.Service,
            TimeProvider = _time,
        };
        _validator = new AssertionValidator(Options.Create(options), new StaticGatewayKeySource([_key.PublicSecurityKey()]));
    }

    private DateTimeOffset Now => _time.GetUtcNow();

    [Fact]
    public async Task Accepts_ValidAssertion()
    {
        var result = await ValidateAsync(AssertionMinter.Mint(_key, Now));

        Assert.True(result.Succeeded);
        Assert.Equal("alice@corp.example", result.Identity!.Name);
    }

    [Theory]
    [InlineData("jti")]
    [InlineData("iat")]
    [InlineData("exp")]
    public async Task Rejects_MissingRequiredClaim(string claim)
    {
        var result = await ValidateAsync(AssertionMinter.Mint(_key, Now, claims => claims.Remove(claim)));

        Assert.Equal(AssertionFailure.ClaimMissing, result.Failure);
    }

    [Fact]
    public async Task Rejects_NonNumericExpiry()
    {
        var result = await ValidateAsync(AssertionMinter.Mint(_key, Now, claims => claims["exp"] = "tomorrow"));

        Assert.Equal(AssertionFailure.Malformed, result.Failure);
    }

    [Fact]
    public async Task Accepts_LifetimeOfExactlyFiveMinutes()
    {
        var result = await ValidateAsync(AssertionMinter.Mint(_key, Now, claims => claims["exp"] = (Now + TimeSpan.FromMinutes(5)).ToUnixTimeSeconds()));

        Assert.True(result.Succeeded);
    }

    [Theory]
    [InlineData(301)]
    [InlineData(86_400)]
    [InlineData(0)]
    [InlineData(-60)]
    public async Task Rejects_LifetimeOutsideFiveMinutes(int lifetimeSeconds)
    {
        var result = await ValidateAsync(AssertionMinter.Mint(_key, Now, claims => claims["exp"] = Now.ToUnixTimeSeconds() + lifetimeSeconds));

        Assert.Equal(AssertionFailure.LifetimeTooLong, result.Failure);
    }

    [Fact]
    public async Task Rejects_ExpiredBeyondClockSkew()
    {
        var assertion = AssertionMinter.Mint(_key, Now);
        _time.Advance(TimeSpan.FromSeconds(66));

        var result = await ValidateAsync(assertion);

        Assert.Equal(AssertionFailure.Expired, result.Failure);
    }

    [Fact]
    public async Task Accepts_ExpiredWithinClockSkew()
    {
        var assertion = AssertionMinter.Mint(_key, Now);
        _time.Advance(TimeSpan.FromSeconds(64));

        var result = await ValidateAsync(assertion);

        Assert.True(result.Succeeded);
    }

    [Fact]
    public async Task Rejects_IssuedInTheFuture()
    {
        var result = await ValidateAsync(AssertionMinter.Mint(_key, Now + TimeSpan.FromSeconds(30)));

        Assert.Equal(AssertionFailure.NotYetValid, result.Failure);
    }

    [Fact]
    public async Task Rejects_NotBeforeInTheFuture()
    {
        var result = await ValidateAsync(AssertionMinter.Mint(_key, Now, claims => claims["nbf"] = (Now + TimeSpan.FromSeconds(30)).ToUnixTimeSeconds()));

        Assert.Equal(AssertionFailure.NotYetValid, result.Failure);
    }

    [Fact]
    public async Task Rejects_WrongAudience()
    {
        var result = await ValidateAsync(AssertionMinter.Mint(_key, Now, claims => claims["aud"] = "ledger"));

        Assert.Equal(AssertionFailure.AudienceInvalid, result.Failure);
    }

    [Fact]
    public async Task Rejects_WrongIssuer()
    {
        var result = await ValidateAsync(AssertionMinter.Mint(_key, Now, claims => claims["iss"] = "https://ztgw.example/"));

        Assert.Equal(AssertionFailure.IssuerInvalid, result.Failure);
    }

    [Fact]
    public async Task Rejects_AnotherKey()
    {
        using var forger = new GatewayKey(_key.KeyId);

        var result = await ValidateAsync(AssertionMinter.Mint(forger, Now));

        Assert.Equal(AssertionFailure.SignatureInvalid, result.Failure);
    }

    [Fact]
    public async Task Rejects_Hs256()
    {
        var result = await ValidateAsync(AssertionMinter.MintHs256(Now, _key.KeyId));

        Assert.Equal(AssertionFailure.AlgorithmNotAllowed, result.Failure);
    }

    [Fact]
    public async Task Rejects_AlgNone()
    {
        var result = await ValidateAsync(AssertionMinter.MintUnsigned(Now, _key.KeyId));

        Assert.Equal(AssertionFailure.AlgorithmNotAllowed, result.Failure);
    }

    [Theory]
    [InlineData("")]
    [InlineData("x")]
    [InlineData("a.b")]
    [InlineData("....")]
    public async Task Rejects_Malformed(string assertion)
    {
        var result = await ValidateAsync(assertion);

        Assert.Equal(AssertionFailure.Malformed, result.Failure);
    }

    [Fact]
    public async Task Rejects_OversizedAssertion()
    {
        var result = await ValidateAsync(AssertionMinter.Mint(_key, Now, claims => claims["padding"] = new string('p', 20_000)));

        Assert.Equal(AssertionFailure.Malformed, result.Failure);
    }

    public void Dispose() => _key.Dispose();

    private Task<AssertionValidationResult> ValidateAsync(string assertion) => _validator.ValidateAsync(assertion, CancellationToken.None).AsTask();
}
