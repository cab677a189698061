using Microsoft.IdentityModel.Tokens;

namespace ZtGateway.KeySets;

/// <summary>One good key set a <see cref="JsonWebKeySetCache"/> fetched: what was published and the keys it may use.</summary>
public sealed class JsonWebKeySetSnapshot
{
    internal JsonWebKeySetSnapshot(JsonWebKeySet keySet, IReadOnlyList<SecurityKey> keys, Uri address, DateTimeOffset fetchedAt)
    {
        KeySet = keySet;
        Keys = keys;
        Address = address;
        FetchedAt = fetchedAt;
        KeyIds = string.Join('\n', keys.Select(key => key.KeyId ?? string.Empty).Order(StringComparer.Ordinal));
    }

    /// <summary>
    /// The set as published, every key and member included (checks such as Entra's read members of the keys).
    /// Shared by every reader of this snapshot: read it, never change it.
    /// </summary>
    public JsonWebKeySet KeySet { get; }

    /// <summary>The signing keys of the set that passed <see cref="JsonWebKeySetCacheOptions.KeyFilter"/>; never empty.</summary>
    public IReadOnlyList<SecurityKey> Keys { get; }

    /// <summary>Where the set was fetched from.</summary>
    public Uri Address { get; }

    /// <summary>When the fetch ended, on the cache's clock.</summary>
    public DateTimeOffset FetchedAt { get; }

    /// <summary>The key ids of <see cref="Keys"/>, sorted, one a line: equal for two sets with the same key ids.</summary>
    internal string KeyIds { get; }

    /// <summary>Whether one of <see cref="Keys"/> has the key id <paramref name="keyId"/> (compared exactly).</summary>
    public bool Contains(string keyId)
    {
        foreach (var key in Keys)
        {
            if (string.Equals(key.KeyId, keyId, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }
}
