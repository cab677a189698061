using ZtGateway.Sources.Identity;

namespace ZtGateway.Tests.Caching;

public sealed class VerifiedCacheTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Hit_BeforeExpiry_MissAfter()
    {
        var cache = new VerifiedCache<string>(10, TimeSpan.FromHours(1));
        cache.Set("token-a", "alice", "alice", Now, Now.AddMinutes(5));

        Assert.True(cache.TryGet("token-a", Now.AddMinutes(4), out var value));
        Assert.Equal("alice", value);
        Assert.False(cache.TryGet("token-a", Now.AddMinutes(5), out _));
        Assert.False(cache.TryGet("token-b", Now, out _));
    }

    [Fact]
    public void EntryLifetime_IsCappedBelowTheCredentialsExpiry()
    {
        var cache = new VerifiedCache<string>(10, TimeSpan.FromMinutes(1));
        cache.Set("token-a", "alice", "alice", Now, Now.AddHours(1));

        Assert.True(cache.TryGet("token-a", Now.AddSeconds(59), out _));
        Assert.False(cache.TryGet("token-a", Now.AddSeconds(61), out _));
    }

    [Fact]
    public void AlreadyExpiredCredential_IsNotStored()
    {
        var cache = new VerifiedCache<string>(10, TimeSpan.FromHours(1));
        cache.Set("token-a", "alice", "alice", Now, Now.AddSeconds(-1));

        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public void StaysWithinCapacity_UnderAFloodOfDistinctCredentials()
    {
        var cache = new VerifiedCache<string>(100, TimeSpan.FromHours(1));
        for (var i = 0; i < 10_000; i++)
        {
            cache.Set("token-" + i, "v", "s", Now, Now.AddHours(1));
            Assert.True(cache.Count <= 100);
        }
    }

    [Fact]
    public void RemoveSubject_ForgetsOnlyThatSubject_AndClearForgetsAll()
    {
        var cache = new VerifiedCache<string>(10, TimeSpan.FromHours(1));
        cache.Set("token-a1", "a", "alice", Now, Now.AddHours(1));
        cache.Set("token-a2", "a", "alice", Now, Now.AddHours(1));
        cache.Set("token-b", "b", "bob", Now, Now.AddHours(1));

        cache.RemoveSubject("alice");

        Assert.False(cache.TryGet("token-a1", Now, out _));
        Assert.False(cache.TryGet("token-a2", Now, out _));
        Assert.True(cache.TryGet("token-b", Now, out _));
        cache.Clear();
        Assert.False(cache.TryGet("token-b", Now, out _));
    }
}
