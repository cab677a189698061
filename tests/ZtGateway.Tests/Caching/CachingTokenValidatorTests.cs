using Microsoft.Extensions.Time.Testing;
using ZtGateway.Policy.Engine;
using ZtGateway.Sources.Identity;

namespace ZtGateway.Tests.Caching;

public sealed class CachingTokenValidatorTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 28, 12, 0, 0, TimeSpan.Zero));

    private TokenValidationOutcome Valid(string subject, TimeSpan lifetime) =>
        new(TokenStatus.Valid, new Principal { Kind = PrincipalKind.User, Subject = subject }, "test", "ok", _time.GetUtcNow() + lifetime);

    [Fact]
    public async Task ValidToken_IsVerifiedOnce_ThenServedFromCache()
    {
        var inner = new CountingValidator(_ => Valid("alice", TimeSpan.FromHours(1)));
        using var cache = new CachingTokenValidator(inner, _time);

        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(TokenStatus.Valid, (await cache.ValidateAsync("Bearer abc", default)).Status);
        }

        Assert.Equal(1, inner.Calls);
    }

    [Fact]
    public async Task CachedToken_PastExp_GoesBackToTheVerifier_AndIsRefused()
    {
        var verdicts = new Queue<TokenValidationOutcome>([
            Valid("alice", TimeSpan.FromMinutes(2)),
            new TokenValidationOutcome(TokenStatus.Expired, null, "test", "expired", null),
        ]);
        var inner = new CountingValidator(_ => verdicts.Dequeue());
        using var cache = new CachingTokenValidator(inner, _time);
        Assert.Equal(TokenStatus.Valid, (await cache.ValidateAsync("Bearer abc", default)).Status);

        _time.Advance(TimeSpan.FromMinutes(2));

        Assert.Equal(TokenStatus.Expired, (await cache.ValidateAsync("Bearer abc", default)).Status);
        Assert.Equal(2, inner.Calls);
    }

    [Fact]
    public async Task Refusals_AreCachedOnlyBriefly()
    {
        var inner = new CountingValidator(_ => new TokenValidationOutcome(TokenStatus.Invalid, null, null, "bad signature", null));
        using var cache = new CachingTokenValidator(inner, _time);

        await cache.ValidateAsync("Bearer forged", default);
        _time.Advance(CachingTokenValidator.RefusalLifetime);
        await cache.ValidateAsync("Bearer forged", default);

        Assert.Equal(2, inner.CallsFor("Bearer forged"));
    }

    [Fact]
    public async Task Forget_DropsTheSubjectsTokens()
    {
        var inner = new CountingValidator(_ => Valid("alice", TimeSpan.FromHours(1)));
        using var cache = new CachingTokenValidator(inner, _time);
        await cache.ValidateAsync("Bearer abc", default);

        cache.Forget("alice");
        await cache.ValidateAsync("Bearer abc", default);

        Assert.Equal(2, inner.CallsFor("Bearer abc"));
    }

    [Fact]
    public async Task SigningKeyChange_ForgetsEveryCachedToken()
    {
        var inner = new CountingValidator(_ => Valid("alice", TimeSpan.FromHours(1)));
        using var cache = new CachingTokenValidator(inner, _time);
        await cache.ValidateAsync("Bearer abc", default);

        inner.RaiseSigningKeysChanged();
        await cache.ValidateAsync("Bearer abc", default);

        Assert.Equal(2, inner.CallsFor("Bearer abc"));
    }
}
