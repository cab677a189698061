using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace ZtGateway.Sources.Identity;

/// <summary>
/// Remembers the verdict on credentials that were already checked, so a token or assertion that comes back on
/// every request is not verified again each time: the one cache implementation, used for credentials that
/// verified (until their expiry) and, as a separate short-lived instance, for credentials that were refused.
/// Keys are SHA-256 digests of the raw credential: the credential itself is never stored. Every entry dies at
/// the time it was given (capped by <see cref="MaxEntryLifetime"/>), the cache holds at most
/// <see cref="Capacity"/> entries, and it can be emptied as a whole or for one subject.
/// </summary>
/// <remarks>
/// A caller that presents the same credential again and again (a kept-alive connection) can keep a
/// <see cref="RecentCredential"/>: the entry its last credential found is then reused when the credential is the same
/// string again (the same reference, or the same characters), without hashing it. Such an entry is reused only while
/// it is in the cache: an entry that expired, was removed for its subject, or was emptied with the rest is never
/// found through a <see cref="RecentCredential"/> either.
/// </remarks>
internal sealed class VerifiedCache<TValue>
    where TValue : class
{
    private readonly ConcurrentDictionary<Digest, Entry> _entries = new();
    private readonly Lock _trimLock = new();

    // Bumped by every Clear: entries made before it are never reused through a RecentCredential.
    private int _epoch;

    public VerifiedCache(int capacity, TimeSpan maxEntryLifetime)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
        MaxEntryLifetime = maxEntryLifetime;
    }

    public int Capacity { get; }

    /// <summary>Longest an entry lives even when its credential lives longer.</summary>
    public TimeSpan MaxEntryLifetime { get; }

    public int Count => _entries.Count;

    public bool TryGet(ReadOnlySpan<char> credential, DateTimeOffset now, out TValue value)
    {
        if (Find(credential, now) is { } entry)
        {
            value = entry.Value;
            return true;
        }

        value = null!;
        return false;
    }

    /// <summary>
    /// Like <see cref="TryGet(ReadOnlySpan{char}, DateTimeOffset, out TValue)"/> for the credential <paramref name="key"/>
    /// taken from <paramref name="presented"/> (a whole header value): first the entry <paramref name="recent"/> holds when
    /// <paramref name="presented"/> is the credential it was found with, else the digest; a hit is kept in
    /// <paramref name="recent"/> for the next time.
    /// </summary>
    public bool TryGet(ReadOnlySpan<char> key, string presented, DateTimeOffset now, RecentCredential? recent, out TValue value)
    {
        if (recent is null)
        {
            return TryGet(key, now, out value);
        }

        if (TryGetRecent(recent, presented, now, out value))
        {
            return true;
        }

        if (Find(key, now) is { } entry)
        {
            recent.Last = new Remembered(this, presented, entry);
            value = entry.Value;
            return true;
        }

        value = null!;
        return false;
    }

    /// <summary>The entry <paramref name="recent"/> holds, when <paramref name="presented"/> is its credential and it is still in this cache.</summary>
    public bool TryGetRecent(RecentCredential recent, string presented, DateTimeOffset now, out TValue value)
    {
        if (recent.Last is Remembered remembered
            && ReferenceEquals(remembered.Owner, this)
            && remembered.Entry.IsLive(Volatile.Read(ref _epoch), now)
            && (ReferenceEquals(remembered.Presented, presented) || string.Equals(remembered.Presented, presented, StringComparison.Ordinal)))
        {
            value = remembered.Entry.Value;
            return true;
        }

        value = null!;
        return false;
    }

    private Entry? Find(ReadOnlySpan<char> credential, DateTimeOffset now)
    {
        var key = Digest.Of(credential);
        if (_entries.TryGetValue(key, out var entry))
        {
            if (now < entry.ExpiresAt && !entry.Removed)
            {
                return entry;
            }

            Remove(key, entry);
        }

        return null;
    }

    /// <summary>Remembers a verdict on a credential until <paramref name="expiresAt"/> (capped by <see cref="MaxEntryLifetime"/>).</summary>
    public void Set(ReadOnlySpan<char> credential, TValue value, string? subject, DateTimeOffset now, DateTimeOffset expiresAt) =>
        Set(credential, value, subject, now, expiresAt, presented: null, recent: null);

    /// <summary>
    /// Like <see cref="Set(ReadOnlySpan{char}, TValue, string?, DateTimeOffset, DateTimeOffset)"/>, and keeps the new entry in
    /// <paramref name="recent"/> for <paramref name="presented"/>, the whole value the credential was taken from.
    /// </summary>
    public void Set(ReadOnlySpan<char> credential, TValue value, string? subject, DateTimeOffset now, DateTimeOffset expiresAt, string? presented,
        RecentCredential? recent)
    {
        var cap = now + MaxEntryLifetime;
        if (expiresAt > cap)
        {
            expiresAt = cap;
        }

        if (expiresAt <= now)
        {
            return;
        }

        if (_entries.Count >= Capacity)
        {
            Trim(now);
        }

        var entry = new Entry(value, subject, expiresAt, Volatile.Read(ref _epoch));
        _entries[Digest.Of(credential)] = entry;
        if (recent is not null && presented is not null)
        {
            recent.Last = new Remembered(this, presented, entry);
        }
    }

    /// <summary>Forgets everything (a signing-key change, a policy reload).</summary>
    public void Clear()
    {
        Interlocked.Increment(ref _epoch);
        _entries.Clear();
    }

    /// <summary>Forgets every entry of one subject (a revocation).</summary>
    public void RemoveSubject(string subject)
    {
        foreach (var pair in _entries)
        {
            if (string.Equals(pair.Value.Subject, subject, StringComparison.Ordinal))
            {
                Remove(pair.Key, pair.Value);
            }
        }
    }

    private void Trim(DateTimeOffset now)
    {
        lock (_trimLock)
        {
            if (_entries.Count < Capacity)
            {
                return;
            }

            foreach (var pair in _entries)
            {
                if (pair.Value.ExpiresAt <= now)
                {
                    Remove(pair.Key, pair.Value);
                }
            }

            // Still full of live entries (a flood of distinct credentials): drop about a quarter, arbitrarily.
            // They are only re-verified, never trusted, when they come back.
            var excess = _entries.Count - (Capacity * 3 / 4);
            foreach (var pair in _entries)
            {
                if (excess-- <= 0)
                {
                    break;
                }

                Remove(pair.Key, pair.Value);
            }
        }
    }

    // Marked first, so that a RecentCredential holding it stops finding it before the dictionary forgets it.
    private void Remove(Digest key, Entry entry)
    {
        entry.Removed = true;
        _entries.TryRemove(KeyValuePair.Create(key, entry));
    }

    private sealed class Entry(TValue value, string? subject, DateTimeOffset expiresAt, int epoch)
    {
        private volatile bool _removed;

        public TValue Value { get; } = value;

        public string? Subject { get; } = subject;

        public DateTimeOffset ExpiresAt { get; } = expiresAt;

        public bool Removed
        {
            get => _removed;
            set => _removed = value;
        }

        public bool IsLive(int currentEpoch, DateTimeOffset now) => !_removed && epoch == currentEpoch && now < ExpiresAt;
    }

    /// <summary>What a <see cref="RecentCredential"/> holds: the cache, the value presented, and the entry it found.</summary>
    private sealed record Remembered(VerifiedCache<TValue> Owner, string Presented, Entry Entry);

    /// <summary>SHA-256 of the credential's UTF-8 bytes.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private readonly record struct Digest(ulong A, ulong B, ulong C, ulong D)
    {
        // One hash context per thread, reset after each digest: no context made and freed per lookup.
        [ThreadStatic]
        private static IncrementalHash? t_sha256;

        // The stack buffer is written before it is read (only the bytes the encoder wrote are hashed): no zeroing of
        // three bytes per character on every lookup.
        [SkipLocalsInit]
        public static Digest Of(ReadOnlySpan<char> credential)
        {
            var length = Encoding.UTF8.GetMaxByteCount(credential.Length);
            byte[]? rented = null;
            var bytes = length <= 4096 ? stackalloc byte[length] : (rented = ArrayPool<byte>.Shared.Rent(length));
            try
            {
                var written = Encoding.UTF8.GetBytes(credential, bytes);
                Span<byte> hash = stackalloc byte[32];
                var sha = t_sha256 ??= IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                sha.AppendData(bytes[..written]);
                sha.GetHashAndReset(hash);
                var words = MemoryMarshal.Cast<byte, ulong>(hash);
                return new Digest(words[0], words[1], words[2], words[3]);
            }
            finally
            {
                if (rented is not null)
                {
                    ArrayPool<byte>.Shared.Return(rented);
                }
            }
        }
    }
}
