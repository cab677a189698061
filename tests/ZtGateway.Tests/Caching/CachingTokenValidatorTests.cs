using Microsoft.Extensions.Time.Testing;
using Moq;
using ZtGateway.Caching;
using ZtGateway.Identity;
using ZtGateway.Policy.Engine;

namespace ZtGateway.Tests.Caching;

public sealed class CachingTokenValidatorTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 28, 12, 0, 0, TimeSpan.Zero));

    private TokenValidationOutcome Valid(string subject, TimeSpan lifetime) =>
        new(TokenStatus.Valid, new Principal { Kind = PrincipalKind.User, Subject = subject }, "test", "ok", _time.GetUtcNow() + lifetime);

    [Fact]
    public async Task ValidToken_IsVerifiedOnce_ThenServedFromCache()
    {
        var inner = new Mock<ITokenValidator>();
        inner.Setup(v => v.ValidateAsync("Bearer abc", It.IsAny<CancellationToken>())).ReturnsAsync(Valid("alice", TimeSpan.FromHours(1)));
        using var cache = new CachingTokenValidator(inner.Object, _time);

        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(TokenStatus.Valid, (await cache.ValidateAsync("Bearer abc", default)).Status);
        }

        inner.Verify(v => v.ValidateAsync(It.IsAny<string?>(), It.IsAny<CancellationToken>()), Times.Once);
    }

    [Fact]
    public async Task CachedToken_PastExp_GoesBackToTheVerifier_AndIsRefused()
    {
        var inner = new Mock<ITokenValidator>();
        inner.SetupSequence(v => v.ValidateAsync("Bearer abc", It.IsAny<CancellationToken>()))
            .ReturnsAsync(Valid("alice", TimeSpan.FromMinutes(2)))
            .ReturnsAsync(new TokenValidationOutcome(TokenStatus.Expired, null, "test", "expired", null));
        using var cache = new CachingTokenValidator(inner.Object, _time);
        Assert.Equal(TokenStatus.Valid, (await cache.ValidateAsync("Bearer abc", default)).Status);

        _time.Advance(TimeSpan.FromMinutes(2));

        Assert.Equal(TokenStatus.Expired, (await cache.ValidateAsync("Bearer abc", default)).Status);
    }

    [Fact]
    public async Task Refusals_AreCachedOnlyBriefly()
    {
        var inner = new Mock<ITokenValidator>();
        inner.Setup(v => v.ValidateAsync(It.IsAny<string?>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync(new TokenValidationOutcome(TokenStatus.Invalid, null, null, "bad signature", null));
        using var cache = new CachingTokenValidator(inner.Object, _time);

        await cache.ValidateAsync("Bearer forged", default);
        _time.Advance(CachingTokenValidator.RefusalLifetime);
        await cache.ValidateAsync("Bearer forged", default);

        inner.Verify(v => v.ValidateAsync("Bearer forged", It.IsAny<CancellationToken>()), Times.Exactly(2));
    }

    [Fact]
    public async Task Forget_DropsTheSubjectsTokens()
    {
        var inner = new Mock<ITokenValidator>();
        inner.Setup(v => v.ValidateAsync("Bearer abc", It.IsAny<CancellationToken>())).ReturnsAsync(Valid("alice", TimeSpan.FromHours(1)));
        using var cache = new CachingTokenValidator(inner.Object, _time);
        await cache.ValidateAsync("Bearer abc", default);

        cache.Forget("alice");
        await cache.ValidateAsync("Bearer abc", default);

        inner.Verify(v => v.ValidateAsync("Bearer abc", It.IsAny<CancellationToken>()), Times.Exactly(2));
    }

    [Fact]
    public async Task SigningKeyChange_ForgetsEveryCachedToken()
    {
        var inner = new Mock<ITokenValidator>();
        inner.Setup(v => v.ValidateAsync("Bearer abc", It.IsAny<CancellationToken>())).ReturnsAsync(Valid("alice", TimeSpan.FromHours(1)));
        using var cache = new CachingTokenValidator(inner.Object, _time);
        await cache.ValidateAsync("Bearer abc", default);

        inner.Raise(v => v.SigningKeysChanged += null);
        await cache.ValidateAsync("Bearer abc", default);

        inner.Verify(v => v.ValidateAsync("Bearer abc", It.IsAny<CancellationToken>()), Times.Exactly(2));
    }
}
