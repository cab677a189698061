using System.Net.Security;
using System.Runtime.CompilerServices;
using System.Security.Cryptography.X509Certificates;
using ZtGateway.Policy.Configuration;

namespace ZtGateway.Transport;

/// <summary>
/// Verifies the client certificate a caller presents in a listener's handshake, against the segment's <c>tls.clientCA</c>
/// and, when the gateway names devices by certificate, <c>device.certificates.ca</c> (each as it is now: a bundle is
/// reloaded when its file changes): chain, validity at the gateway's time, clientAuth. A certificate that is presented and
/// chains to neither fails the handshake, whether certificates are optional or required; no certificate fails it only
/// when they are required. Which of the two a certificate chains to is asked again per connection
/// (<see cref="ListenerTransport.AnchorsOf"/>): only one of <c>clientCA</c> is a workload, only one of the device CA a device.
/// </summary>
internal sealed partial class ClientCertificateVerifier
{
    private readonly ReloadingPem<X509Certificate2Collection> _trust;
    private readonly ReloadingPem<X509Certificate2Collection>? _devices;
    private readonly ConditionalWeakTable<object, StrongBox<CertificateAnchors>> _anchors = [];
    private readonly ClientCertificateRequirement _mode;
    private readonly TimeProvider _timeProvider;
    private readonly string _segment;
    private readonly ILogger _logger;

    public ClientCertificateVerifier(ReloadingPem<X509Certificate2Collection> trust, ClientCertificateRequirement mode, TimeProvider timeProvider, string segment,
        ILogger logger, ReloadingPem<X509Certificate2Collection>? devices = null)
    {
        ArgumentNullException.ThrowIfNull(trust);
        _trust = trust;
        _devices = devices;
        _mode = mode;
        _timeProvider = timeProvider;
        _segment = segment;
        _logger = logger;
    }

    /// <summary>The CA bundle in force.</summary>
    public ReloadingPem<X509Certificate2Collection> Trust => _trust;

    /// <summary>The device CA bundle in force; null when the gateway names no device by certificate.</summary>
    public ReloadingPem<X509Certificate2Collection>? Devices => _devices;

    /// <summary>Null when <paramref name="certificate"/> chains to <paramref name="anchors"/> for client authentication now; else why not.</summary>
    public string? Problem(X509Certificate certificate, X509Chain? presented, X509Certificate2Collection anchors) =>
        ChainVerification.Problem(certificate, presented, anchors, ChainVerification.ClientAuthentication, _timeProvider.GetUtcNow());

    /// <summary>
    /// Which CAs the certificate accepted in the handshake over <paramref name="stream"/> chains to; <c>default</c> when no
    /// handshake over it accepted one. Recorded only when the gateway names devices by certificate.
    /// </summary>
    public CertificateAnchors AnchorsOf(object stream) => _anchors.TryGetValue(stream, out var found) ? found.Value : default;

    /// <summary>The handshake's verdict on what the caller sent, without a stream to remember it by.</summary>
    public bool Verify(X509Certificate? certificate, X509Chain? presented) => Verify(null, certificate, presented);

    /// <summary>
    /// The handshake's verdict on what the caller sent (the <see cref="RemoteCertificateValidationCallback"/> of the listener,
    /// whose sender is the connection's <see cref="SslStream"/>).
    /// </summary>
    public bool Verify(object? stream, X509Certificate? certificate, X509Chain? presented)
    {
        if (certificate is null)
        {
            if (_mode == ClientCertificateRequirement.Required)
            {
                Log.Refused(_logger, _segment, "(none)", "a client certificate is required and none was sent");
                return false;
            }

            return true;
        }

        var problem = Problem(certificate, presented, _trust.Current);
        if (_devices is null)
        {
            if (problem is null)
            {
                return true;
            }

            Log.Refused(_logger, _segment, certificate.Subject, problem);
            return false;
        }

        // Both questions are asked: a certificate of either CA passes the handshake, and the request path must know which.
        var deviceProblem = Problem(certificate, presented, _devices.Current);
        if (problem is not null && deviceProblem is not null)
        {
            Log.Refused(_logger, _segment, certificate.Subject, "against tls.clientCA " + problem + "; against device.certificates.ca " + deviceProblem);
            return false;
        }

        if (stream is not null)
        {
            _anchors.AddOrUpdate(stream, new StrongBox<CertificateAnchors>(new CertificateAnchors(problem is null, deviceProblem is null)));
        }

        return true;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = TransportEventIds.ClientCertificateRefused, Level = LogLevel.Information,
            Message = "Segment {Segment}: handshake refused, client certificate {Subject}: {Problem}")]
        public static partial void Refused(ILogger logger, string segment, string subject, string problem);
    }
}
