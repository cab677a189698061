using Microsoft.AspNetCore.Server.Kestrel.Core;
using ZtGateway.Policy.Configuration;

namespace ZtGateway.Transport;

/// <summary>The Kestrel protocols of a segment listener's <c>protocols</c> key.</summary>
internal static class ListenerProtocolMapping
{
    /// <summary>
    /// Over TLS, ALPN offers what is configured. Over plain TCP Kestrel cannot upgrade to h2c, so <c>[http2]</c> is HTTP/2
    /// with prior knowledge only; the loader refuses <c>[http1, http2]</c> there, and a record built without the loader gets
    /// HTTP/1.1 rather than a port that silently drops one of the two.
    /// </summary>
    public static HttpProtocols For(ListenerProtocols protocols, bool tls) => protocols switch
    {
        ListenerProtocols.Http2 => HttpProtocols.Http2,
        ListenerProtocols.Http1AndHttp2 when tls => HttpProtocols.Http1AndHttp2,
        _ => HttpProtocols.Http1,
    };
}
