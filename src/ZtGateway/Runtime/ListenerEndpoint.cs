using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace ZtGateway.Runtime;

/// <summary>Turns a listen URL into an explicit Kestrel endpoint.</summary>
internal static class ListenerEndpoint
{
    /// <summary>
    /// Binds <paramref name="listen"/>; <paramref name="endpoint"/>, when given, sets the endpoint's protocols and TLS. An https
    /// URL needs it: there is no default certificate.
    /// </summary>
    public static void Configure(KestrelServerOptions kestrel, string listen, Action<ListenOptions>? endpoint = null)
    {
        var uri = new Uri(listen);
        var https = uri.Scheme == Uri.UriSchemeHttps;
        if (https && endpoint is null)
        {
            // TLS comes only from configured certificates (a segment's tls section), never from a development default.
            throw new InvalidOperationException($"listen address '{listen}' is https, but this listener serves plain http only; use an http URL");
        }

        var host = uri.Host.Trim('[', ']');
        Action<ListenOptions> configure = options =>
        {
            endpoint?.Invoke(options);
        };

        if (host is "0.0.0.0" or "*" or "+")
        {
            kestrel.ListenAnyIP(uri.Port, configure);
        }
        else if (host == "::")
        {
            kestrel.Listen(IPAddress.IPv6Any, uri.Port, configure);
        }
        else if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            kestrel.ListenLocalhost(uri.Port, configure);
        }
        else if (IPAddress.TryParse(host, out var address))
        {
            kestrel.Listen(address, uri.Port, configure);
        }
        else
        {
            throw new InvalidOperationException($"listen address '{listen}' must name an IP address, localhost or 0.0.0.0");
        }
    }
}
