using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace ZtGateway.Runtime;

/// <summary>Turns a listen URL into an explicit Kestrel endpoint.</summary>
internal static class ListenerEndpoint
{
    /// <summary>Binds <paramref name="listen"/>; <paramref name="endpoint"/>, when given, sets the endpoint's protocols and TLS.</summary>
    public static void Configure(KestrelServerOptions kestrel, string listen, Action<ListenOptions>? endpoint = null)
    {
        var uri = new Uri(listen);
        var https = uri.Scheme == Uri.UriSchemeHttps;
        var host = uri.Host.Trim('[', ']');
        Action<ListenOptions> configure = options =>
        {
            if (endpoint is not null)
            {
                endpoint(options);
            }
            else if (https)
            {
                options.UseHttps();
            }
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
