using Microsoft.AspNetCore.Connections.Features;
using ZtGateway.Sources.Identity;

namespace ZtGateway.Enforcement;

/// <summary>
/// What one connection presented last: its bearer token and its device assertion. A kept-alive connection sends the
/// same headers on every request (Kestrel even hands back the same <c>Authorization</c> string), so the caches find
/// their verdicts without hashing the credentials again. Every check still runs: only the lookup is shorter.
/// </summary>
internal sealed class ConnectionCredentials
{
    private static readonly object Key = new();

    public RecentCredential Token { get; } = new();

    public RecentCredential Posture { get; } = new();

    /// <summary>The connection's record, created on its first request; null when the server keeps no per-connection items.</summary>
    public static ConnectionCredentials? Of(HttpContext context)
    {
        if (context.Features.Get<IConnectionItemsFeature>()?.Items is not { } items)
        {
            return null;
        }

        // Streams of one HTTP/2 connection run at the same time; the items dictionary is not thread-safe.
        lock (items)
        {
            if (items.TryGetValue(Key, out var found) && found is ConnectionCredentials credentials)
            {
                return credentials;
            }

            var created = new ConnectionCredentials();
            items[Key] = created;
            return created;
        }
    }
}
