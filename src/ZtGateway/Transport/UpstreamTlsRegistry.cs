using System.Collections.Frozen;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Loading;

namespace ZtGateway.Transport;

/// <summary>
/// The TLS of each upstream cluster of one listener, by cluster id: the CA bundle its destinations must verify against
/// and the client certificate the gateway presents, both read again when their files change. The handler of each
/// cluster asks here at every handshake, so neither a rotation nor a reload that changes a service's <c>tls</c> needs a
/// new client.
/// </summary>
internal sealed partial class UpstreamTlsRegistry
{
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private volatile FrozenDictionary<string, UpstreamMaterial> _clusters = FrozenDictionary<string, UpstreamMaterial>.Empty;

    public UpstreamTlsRegistry(TimeProvider timeProvider, ILogger logger)
    {
        _timeProvider = timeProvider;
        _logger = logger;
    }

    /// <summary>
    /// Takes the services of a newly accepted policy. Material whose files are unchanged is kept; new files are read now,
    /// and a cluster whose files cannot be read (they changed since the policy was validated) refuses every handshake
    /// until they can.
    /// </summary>
    public void Update(IEnumerable<(string ClusterId, ServiceConfig Service)> services)
    {
        ArgumentNullException.ThrowIfNull(services);
        var previous = _clusters;
        var next = new Dictionary<string, UpstreamMaterial>(StringComparer.Ordinal);
        foreach (var (clusterId, service) in services)
        {
            if (service.Tls is not { } tls)
            {
                continue;
            }

            next[clusterId] = previous.TryGetValue(clusterId, out var kept) && kept.SameFiles(tls)
                ? kept
                : UpstreamMaterial.Open(service.Name, tls, _logger);
        }

        _clusters = next.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>Reads changed CA bundles and client certificates; a change that cannot be used is logged and refused.</summary>
    public void Refresh()
    {
        foreach (var material in _clusters.Values)
        {
            material.Ca?.Refresh();
            material.Client?.Refresh();
        }
    }

    /// <summary>
    /// Whether the destination's certificate is trusted. Without a <c>ca</c>: the system store's verdict. With one: the
    /// chain must verify against exactly that bundle, and the name must match the destination's host either way.
    /// </summary>
    public bool Validate(string clusterId, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (!_clusters.TryGetValue(clusterId, out var material) || material is { Ca: null, Broken: false })
        {
            return errors == SslPolicyErrors.None;
        }

        if (certificate is null || material.Broken
            || (errors & (SslPolicyErrors.RemoteCertificateNotAvailable | SslPolicyErrors.RemoteCertificateNameMismatch)) != 0)
        {
            Log.Refused(_logger, material.Service, certificate?.Subject ?? "(none)",
                material.Broken ? "its TLS files could not be read" : certificate is null ? "no certificate was sent" : "its name does not match the destination's host");
            return false;
        }

        if (ChainVerification.Problem(certificate, chain, material.Ca!.Current, ChainVerification.ServerAuthentication, _timeProvider.GetUtcNow()) is { } problem)
        {
            Log.Refused(_logger, material.Service, certificate.Subject, problem);
            return false;
        }

        return true;
    }

    /// <summary>The certificate the gateway presents to the cluster's destinations; null for none.</summary>
    public X509Certificate2? ClientCertificate(string clusterId) =>
        _clusters.TryGetValue(clusterId, out var material) ? material.Client?.Current : null;

    private sealed record UpstreamMaterial(string Service, UpstreamTls Tls, ReloadingPem<X509Certificate2Collection>? Ca,
        ReloadingPem<X509Certificate2>? Client, bool Broken)
    {
        public static UpstreamMaterial Open(string service, UpstreamTls tls, ILogger logger)
        {
            try
            {
                var ca = tls.Ca is { } bundle
                    ? ReloadingPem<X509Certificate2Collection>.Open([bundle.Path], () => TlsFiles.LoadBundle(bundle.Path), $"service '{service}' CA {bundle.Path}", logger)
                    : null;
                var client = tls is { ClientCertificate: { } certificate, ClientKey: { } key }
                    ? ReloadingPem<X509Certificate2>.Open([certificate.Path, key.Path], () => LoadClient(certificate.Path, key.Path),
                        $"service '{service}' client certificate {certificate.Path}", logger)
                    : null;
                return new UpstreamMaterial(service, tls, ca, client, Broken: false);
            }
            catch (InvalidOperationException ex)
            {
                Log.Unusable(logger, service, ex.Message);
                return new UpstreamMaterial(service, tls, null, null, Broken: true);
            }
        }

        public bool SameFiles(UpstreamTls other) =>
            !Broken && Tls.Ca?.Path == other.Ca?.Path && Tls.ClientCertificate?.Path == other.ClientCertificate?.Path && Tls.ClientKey?.Path == other.ClientKey?.Path;

        private static (X509Certificate2? Value, string? Problem) LoadClient(string certificate, string key)
        {
            var pair = TlsFiles.LoadPair(certificate, key, CertificatePurpose.Client, $"the certificate '{certificate}'");
            return pair.Certificate is { } loaded
                ? (loaded, null)
                : (null, pair.CertificateProblem is { } c ? $"certificate '{certificate}' {c}" : $"key '{key}' {pair.KeyProblem}");
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = TransportEventIds.UpstreamCertificateRefused, Level = LogLevel.Warning,
            Message = "Service {Service}: destination certificate {Subject} refused: {Problem}; nothing is sent to it")]
        public static partial void Refused(ILogger logger, string service, string subject, string problem);

        [LoggerMessage(EventId = TransportEventIds.MaterialRefused, Level = LogLevel.Error,
            Message = "Service {Service}: TLS files cannot be used ({Problem}); its destinations are refused until they can")]
        public static partial void Unusable(ILogger logger, string service, string problem);
    }
}
