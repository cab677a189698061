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

/// <summary>Whether a TLS listener asks callers for a client certificate (<c>tls.clientCertificates</c>).</summary>
public enum ClientCertificateRequirement
{
    /// <summary><c>none</c> (the default): no certificate is asked for, and none reaches a request.</summary>
    None,

    /// <summary><c>optional</c>: asked for; a caller may send none, but one that is sent must verify or the handshake fails.</summary>
    Optional,

    /// <summary><c>required</c>: a handshake without a certificate that verifies fails.</summary>
    Required,
}

/// <summary>The lowest TLS version a listener accepts (<c>tls.minVersion</c>).</summary>
public enum TlsMinimumVersion
{
    /// <summary><c>"1.2"</c> (the default): TLS 1.2 and 1.3.</summary>
    Tls12,

    /// <summary><c>"1.3"</c>: TLS 1.3 only.</summary>
    Tls13,
}

/// <summary>A PEM file named by the configuration, with where it is named (for messages with <c>file:line:col</c>).</summary>
/// <param name="Path">Absolute path, resolved from the folder of gateway.yaml.</param>
/// <param name="Location">Where the path is written.</param>
public sealed record PemFile(string Path, SourceLocation Location);

/// <summary>
/// The <c>tls:</c> section of a segment whose <c>listen</c> is https: the listener's certificate, and whether (and
/// against which CA) it verifies client certificates. The files are read again whenever they change.
/// </summary>
public sealed record ListenerTls
{
    /// <summary>PEM certificate chain, the listener's own certificate first. Required.</summary>
    public required PemFile Certificate { get; init; }

    /// <summary>Unencrypted PEM private key (RSA or EC) of <see cref="Certificate"/>; must not be readable by every user. Required.</summary>
    public required PemFile Key { get; init; }

    /// <summary>Defaults to <see cref="ClientCertificateRequirement.None"/>.</summary>
    public ClientCertificateRequirement ClientCertificates { get; init; } = ClientCertificateRequirement.None;

    /// <summary>CA bundle client certificates must chain to; required unless <see cref="ClientCertificates"/> is none, and only then absent.</summary>
    public PemFile? ClientCa { get; init; }

    /// <summary>Defaults to <see cref="TlsMinimumVersion.Tls12"/>.</summary>
    public TlsMinimumVersion MinVersion { get; init; } = TlsMinimumVersion.Tls12;

    /// <summary>Where the <c>tls:</c> key is written.</summary>
    public SourceLocation Location { get; init; } = SourceLocation.None;
}

/// <summary>
/// The <c>tls:</c> of a service: how the gateway verifies its https destinations and, optionally, the client
/// certificate it presents to them. The files are read again whenever they change.
/// </summary>
public sealed record UpstreamTls
{
    /// <summary>CA bundle the destination's chain must verify against (and nothing else); null: the system store.</summary>
    public PemFile? Ca { get; init; }

    /// <summary>PEM certificate the gateway presents to the destination; set together with <see cref="ClientKey"/>.</summary>
    public PemFile? ClientCertificate { get; init; }

    /// <summary>Unencrypted PEM private key of <see cref="ClientCertificate"/>; must not be readable by every user.</summary>
    public PemFile? ClientKey { get; init; }

    /// <summary>Where the <c>tls:</c> key is written.</summary>
    public SourceLocation Location { get; init; } = SourceLocation.None;
}
