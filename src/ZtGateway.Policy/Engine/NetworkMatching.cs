using System.Net;
using System.Net.Sockets;

namespace ZtGateway.Policy.Engine;

/// <summary>
/// Network membership for decisions. Dual-stack listeners report IPv4 peers as <c>::ffff:a.b.c.d</c> while policies
/// are written in IPv4, so every IPv4 network is compiled together with its IPv4-mapped IPv6 form; that spares
/// unmapping (and allocating) an address per request.
/// </summary>
internal static class NetworkMatching
{
    private const int MappedPrefix = 96;

    /// <summary><paramref name="networks"/>, each IPv4 network followed by its IPv4-mapped IPv6 form.</summary>
    public static IPNetwork[] WithMappedForms(IEnumerable<IPNetwork> networks)
    {
        var result = new List<IPNetwork>();
        foreach (var network in networks)
        {
            result.Add(network);
            if (network.BaseAddress.AddressFamily == AddressFamily.InterNetwork)
            {
                result.Add(Mapped(network));
            }
        }

        return [.. result];
    }

    /// <summary>The IPv4-mapped IPv6 form of an IPv4 network.</summary>
    public static IPNetwork Mapped(IPNetwork network) =>
        new(network.BaseAddress.MapToIPv6(), network.PrefixLength + MappedPrefix);

    /// <summary>True when any of <paramref name="networks"/> holds <paramref name="address"/>.</summary>
    public static bool Contains(IPNetwork[] networks, IPAddress address)
    {
        foreach (var network in networks)
        {
            if (network.Contains(address))
            {
                return true;
            }
        }

        return false;
    }
}
