using ZtGateway.Sources.Identity;

namespace ZtGateway.Tests.Caching;

/// <summary>
/// A connection's last credential finds its entry without a digest, and only while the cache itself would: never after
/// the entry expired, was removed for its subject, was pushed out, or the cache was emptied; never for other characters.
/// </summary>
public sealed class RecentCredentialTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 3, 12, 0, 0, TimeSpan.Zero);

    private static (VerifiedCache<string> Cache, RecentCredential Recent, string Header) Remembered()
    {
        var cache = new VerifiedCache<string>(10, TimeSpan.FromHours(1));
        var recent = new RecentCredential();
        var header = "Bearer token-a";
        cache.Set("token-a", "alice", "alice", Now, Now.AddMinutes(5), header, recent);
        return (cache, recent, header);
    }

    [Fact]
    public void TheSameHeader_OrEqualCharacters_IsFoundThroughTheRecentCredential()
    {
        var (cache, recent, header) = Remembered();

        Assert.True(cache.TryGetRecent(recent, header, Now.AddMinutes(1), out var value));
        Assert.Equal("alice", value);
        Assert.True(cache.TryGetRecent(recent, new string(header.AsSpan()), Now.AddMinutes(1), out _));
        Assert.False(cache.TryGetRecent(recent, "Bearer token-b", Now.AddMinutes(1), out _));
        Assert.False(cache.TryGetRecent(recent, "Bearer token-A", Now.AddMinutes(1), out _));
    }

    [Fact]
    public void AnEntryThatExpired_IsNotFoundThroughTheRecentCredential()
    {
        var (cache, recent, header) = Remembered();

        Assert.False(cache.TryGetRecent(recent, header, Now.AddMinutes(5), out _));
    }

    [Fact]
    public void AfterAClear_OrARemovalOfItsSubject_TheRecentCredentialFindsNothing()
    {
        var (cache, recent, header) = Remembered();
        cache.Clear();
        Assert.False(cache.TryGetRecent(recent, header, Now, out _));

        (cache, recent, header) = Remembered();
        cache.RemoveSubject("alice");
        Assert.False(cache.TryGetRecent(recent, header, Now, out _));
        Assert.False(cache.TryGet("token-a", header, Now, recent, out _));
    }

    [Fact]
    public void AnEntryPushedOutByAFlood_IsNotFoundThroughTheRecentCredential()
    {
        var (cache, recent, header) = Remembered();
        for (var i = 0; i < 40; i++)
        {
            cache.Set("flood-" + i, "v", "s", Now, Now.AddMinutes(5));
        }

        Assert.Equal(cache.TryGet("token-a", Now, out _), cache.TryGetRecent(recent, header, Now, out _));
    }

    [Fact]
    public void ARecentCredentialOfAnotherCache_IsNotUsed()
    {
        var (_, recent, header) = Remembered();
        var other = new VerifiedCache<string>(10, TimeSpan.FromHours(1));

        Assert.False(other.TryGetRecent(recent, header, Now, out _));
    }

    [Fact]
    public void ADigestHit_IsRememberedForTheNextTime()
    {
        var cache = new VerifiedCache<string>(10, TimeSpan.FromHours(1));
        cache.Set("token-a", "alice", "alice", Now, Now.AddMinutes(5));
        var recent = new RecentCredential();

        Assert.False(cache.TryGetRecent(recent, "Bearer token-a", Now, out _));
        Assert.True(cache.TryGet("token-a", "Bearer token-a", Now, recent, out _));
        Assert.True(cache.TryGetRecent(recent, "Bearer token-a", Now, out var value));
        Assert.Equal("alice", value);
    }
}
