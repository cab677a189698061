using System.Buffers;
using System.Collections.Concurrent;
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
internal sealed class VerifiedCache<TValue>
    where TValue : class
{
    private readonly ConcurrentDictionary<Digest, Entry> _entries = new();
    private readonly Lock _trimLock = new();

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
        var key = Digest.Of(credential);
        if (_entries.TryGetValue(key, out var entry))
        {
            if (now < entry.ExpiresAt)
            {
                value = entry.Value;
                return true;
            }

            _entries.TryRemove(KeyValuePair.Create(key, entry));
        }

        value = null!;
        return false;
    }

    /// <summary>Remembers a verdict on a credential until <paramref name="expiresAt"/> (capped by <see cref="MaxEntryLifetime"/>).</summary>
    public void Set(ReadOnlySpan<char> credential, TValue value, string? subject, DateTimeOffset now, DateTimeOffset expiresAt)
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

        _entries[Digest.Of(credential)] = new Entry(value, subject, expiresAt);
    }

    /// <summary>Forgets everything (a signing-key change, a policy reload).</summary>
    public void Clear() => _entries.Clear();

    /// <summary>Forgets every entry of one subject (a revocation).</summary>
    public void RemoveSubject(string subject)
    {
        foreach (var pair in _entries)
        {
            if (string.Equals(pair.Value.Subject, subject, StringComparison.Ordinal))
            {
                _entries.TryRemove(pair);
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
                    _entries.TryRemove(pair);
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

                _entries.TryRemove(pair);
            }
        }
    }

    private sealed record Entry(TValue Value, string? Subject, DateTimeOffset ExpiresAt);

    /// <summary>SHA-256 of the credential's UTF-8 bytes.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private readonly record struct Digest(ulong A, ulong B, ulong C, ulong D)
    {
        public static Digest Of(ReadOnlySpan<char> credential)
        {
            var length = Encoding.UTF8.GetMaxByteCount(credential.Length);
            byte[]? rented = null;
            var bytes = length <= 4096 ? stackalloc byte[length] : (rented = ArrayPool<byte>.Shared.Rent(length));
            try
            {
                var written = Encoding.UTF8.GetBytes(credential, bytes);
                Span<byte> hash = stackalloc byte[32];
                SHA256.HashData(bytes[..written], hash);
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
