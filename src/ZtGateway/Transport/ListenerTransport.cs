using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Loading;

namespace ZtGateway.Transport;

/// <summary>A listener certificate ready for handshakes: the leaf (with its key) and its chain.</summary>
/// <param name="Leaf">The certificate the listener presents.</param>
/// <param name="Context">The leaf with the intermediates of its file, sent in every handshake.</param>
internal sealed record ServerCertificate(X509Certificate2 Leaf, SslStreamCertificateContext Context);

/// <summary>Which trusted CAs a client certificate chains to (<see cref="ListenerTransport.AnchorsOf"/>).</summary>
/// <param name="ClientCa">It chains to the segment's <c>tls.clientCA</c>: it may be a workload's X.509-SVID.</param>
/// <param name="DeviceCa">It chains to <c>device.certificates.ca</c>: it names a device.</param>
internal readonly record struct CertificateAnchors(bool ClientCa, bool DeviceCa);

/// <summary>
/// The transport of one segment listener: the HTTP versions of its <c>protocols</c> and, on an https listen, its TLS:
/// the certificate (read again when its files change), the lowest version, and the client certificates it asks for and
/// verifies. Each handshake takes the material in force at that moment.
/// </summary>
internal sealed class ListenerTransport
{
    private static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(10);

    private readonly SegmentConfig _segment;
    private readonly ReloadingPem<ServerCertificate>? _certificate;
    private readonly ClientCertificateVerifier? _clients;

    private ListenerTransport(SegmentConfig segment, ReloadingPem<ServerCertificate>? certificate, ClientCertificateVerifier? clients)
    {
        _segment = segment;
        _certificate = certificate;
        _clients = clients;
    }

    /// <summary>The certificate in force; null on a plain http listener.</summary>
    public X509Certificate2? Certificate => _certificate?.Current.Leaf;

    /// <summary>True when the listener's handshake also accepts device certificates (<c>device.certificates</c>).</summary>
    public bool NamesDevices => _clients?.Devices is not null;

    /// <summary>
    /// Which CAs the client certificate of the connection over <paramref name="stream"/> chains to, as its handshake found
    /// (with the chain the client sent); <c>default</c> (neither) for a stream this listener did not verify.
    /// </summary>
    public CertificateAnchors AnchorsOf(SslStream? stream) => stream is not null && _clients is { } clients ? clients.AnchorsOf(stream) : default;

    /// <summary>
    /// Reads the segment's TLS files. Throws <see cref="InvalidOperationException"/> when they cannot be used (the listener
    /// then does not open), and when the listen is https without a <c>tls</c> section (a record not made by the loader).
    /// </summary>
    /// <param name="segment">The segment whose listener this is.</param>
    /// <param name="devices"><c>device.certificates</c>; null when absent. Its CA is trusted by a listener that asks for client certificates.</param>
    /// <param name="timeProvider">The clock of certificate validity.</param>
    /// <param name="loggerFactory">Where logs go.</param>
    public static ListenerTransport Create(SegmentConfig segment, DeviceCertificateSettings? devices, TimeProvider timeProvider, ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(segment);
        var https = segment.Listen.StartsWith("https:", StringComparison.OrdinalIgnoreCase);
        if (!https || segment.Tls is not { } tls)
        {
            return https
                ? throw new InvalidOperationException($"segment '{segment.Name}': listen '{segment.Listen}' is https and has no tls section")
                : new ListenerTransport(segment, null, null);
        }

        var logger = loggerFactory.CreateLogger("ZtGateway.Transport");
        var certificate = ReloadingPem<ServerCertificate>.Open([tls.Certificate.Path, tls.Key.Path], () => LoadCertificate(tls),
            $"segment '{segment.Name}' certificate {tls.Certificate.Path}", logger);
        ClientCertificateVerifier? clients = null;
        if (tls.ClientCertificates != ClientCertificateRequirement.None)
        {
            var ca = tls.ClientCa ?? throw new InvalidOperationException($"segment '{segment.Name}': client certificates need tls.clientCA");
            var trust = ReloadingPem<X509Certificate2Collection>.Open([ca.Path], () => TlsFiles.LoadBundle(ca.Path),
                $"segment '{segment.Name}' client CA {ca.Path}", logger);
            var deviceTrust = devices is null ? null
                : ReloadingPem<X509Certificate2Collection>.Open([devices.Ca.Path], () => TlsFiles.LoadBundle(devices.Ca.Path),
                    $"segment '{segment.Name}' device CA {devices.Ca.Path}", logger);
            clients = new ClientCertificateVerifier(trust, tls.ClientCertificates, timeProvider, segment.Name, logger, deviceTrust);
        }

        return new ListenerTransport(segment, certificate, clients);
    }

    /// <summary>Sets the endpoint's protocols and, on an https listen, its TLS.</summary>
    public void Configure(ListenOptions endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        endpoint.Protocols = ListenerProtocolMapping.For(_segment.Protocols, tls: _certificate is not null);
        if (_certificate is null)
        {
            return;
        }

        // Per handshake, so that a reloaded certificate or CA bundle serves the next connection. Kestrel adds ALPN from
        // the endpoint's protocols, and fills ITlsConnectionFeature (HttpContext.Connection.ClientCertificate) from the
        // certificate this handshake accepted.
        endpoint.UseHttps(new TlsHandshakeCallbackOptions
        {
            HandshakeTimeout = HandshakeTimeout,
            OnConnection = _ => ValueTask.FromResult(HandshakeOptions()),
        });
    }

    /// <summary>Reads changed TLS files (the certificate, its key, the client CA bundle); a change that cannot be used is logged and refused.</summary>
    public void Refresh()
    {
        _certificate?.Refresh();
        _clients?.Trust.Refresh();
        _clients?.Devices?.Refresh();
    }

    private SslServerAuthenticationOptions HandshakeOptions()
    {
        var options = new SslServerAuthenticationOptions
        {
            ServerCertificateContext = _certificate!.Current.Context,
            EnabledSslProtocols = _segment.Tls!.MinVersion == TlsMinimumVersion.Tls13 ? SslProtocols.Tls13 : SslProtocols.Tls12 | SslProtocols.Tls13,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            AllowRenegotiation = false,
        };

        // With clientCertificates: none the handshake asks for nothing, so no certificate ever reaches a request.
        if (_clients is { } clients)
        {
            options.ClientCertificateRequired = true;
            options.RemoteCertificateValidationCallback = (sender, certificate, chain, _) => clients.Verify(sender, certificate, chain);
        }

        return options;
    }

    private static (ServerCertificate? Value, string? Problem) LoadCertificate(ListenerTls tls)
    {
        var pair = TlsFiles.LoadPair(tls.Certificate.Path, tls.Key.Path, CertificatePurpose.Server, $"the certificate '{tls.Certificate.Path}'");
        if (pair.Certificate is not { } leaf)
        {
            return (null, pair.CertificateProblem is { } c ? $"certificate '{tls.Certificate.Path}' {c}" : $"key '{tls.Key.Path}' {pair.KeyProblem}");
        }

        return (new ServerCertificate(leaf, SslStreamCertificateContext.Create(leaf, pair.Intermediates, offline: true)), null);
    }
}
