using System.Net;

namespace ZtGateway.Enforcement;

/// <summary>
/// Finds the client address: the socket peer, unless the peer is a trusted proxy, in which case the
/// rightmost X-Forwarded-For entry that is not itself a trusted proxy. A trusted proxy that sends a
/// malformed X-Forwarded-For yields no address at all, so the caller cannot be placed by network.
/// </summary>
internal static class ClientAddressResolver
{
    public static IPAddress? Resolve(IPAddress? peer, string? forwardedFor, IReadOnlyList<IPNetwork> trustedProxies)
    {
        if (peer is null)
        {
            return null;
        }

        peer = Normalize(peer);
        if (trustedProxies.Count == 0 || !IsTrusted(peer, trustedProxies))
        {
            return peer;
        }

        if (string.IsNullOrEmpty(forwardedFor))
        {
            return peer;
        }

        var parts = forwardedFor.Split(',');
        for (var i = parts.Length - 1; i >= 0; i--)
        {
            if (!IPAddress.TryParse(parts[i].AsSpan().Trim(), out var hop))
            {
                return null;
            }

            hop = Normalize(hop);
            if (!IsTrusted(hop, trustedProxies))
            {
                return hop;
            }
        }

        // Every hop is a trusted proxy: the leftmost one is where the request entered.
        return IPAddress.TryParse(parts[0].AsSpan().Trim(), out var first) ? Normalize(first) : null;
    }

    private static IPAddress Normalize(IPAddress address) =>
        address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    private static bool IsTrusted(IPAddress address, IReadOnlyList<IPNetwork> trustedProxies)
    {
        for (var i = 0; i < trustedProxies.Count; i++)
        {
            if (trustedProxies[i].Contains(address))
            {
                return true;
            }
        }

        return false;
    }
}
