namespace ZtGateway.Sources.Identity;

/// <summary>
/// The last credential of one kind that one caller presented, and the <see cref="VerifiedCache{TValue}"/> entry it found:
/// kept by whoever knows the caller (a connection), so that the same credential presented again is looked up without
/// hashing it. It holds no verdict of its own: a hit is an entry the cache still holds, for exactly the same characters.
/// Thread-safe: what it holds is replaced as a whole.
/// </summary>
internal sealed class RecentCredential
{
    private volatile object? _last;

    /// <summary>The cache's own record of the last hit; only <see cref="VerifiedCache{TValue}"/> reads or writes it.</summary>
    internal object? Last
    {
        get => _last;
        set => _last = value;
    }
}
