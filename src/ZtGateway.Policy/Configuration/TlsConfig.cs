namespace ZtGateway.Policy.Configuration;

/// <summary>
/// The HTTP versions a segment listener serves, from its <c>protocols</c> key (docs/design.md section 2.2).
/// On an <c>https</c> listener both are offered by ALPN; on an <c>http</c> listener HTTP/2 is h2c with prior knowledge,
/// which cannot share a port with HTTP/1.1.
/// </summary>
[Flags]
public enum ListenerProtocols
{
    /// <summary><c>http1</c>: HTTP/1.1.</summary>
    Http1 = 1,

    /// <summary><c>http2</c>: HTTP/2 (by ALPN over TLS; with prior knowledge over plain TCP).</summary>
    Http2 = 2,

    /// <summary><c>[http1, http2]</c>, the default of an <c>https</c> listener.</summary>
    Http1AndHttp2 = Http1 | Http2,
}
