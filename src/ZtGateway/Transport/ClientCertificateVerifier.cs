using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using ZtGateway.Policy.Configuration;

namespace ZtGateway.Transport;

/// <summary>
/// Verifies the client certificate a caller presents in a listener's handshake, against the segment's <c>tls.clientCA</c>
/// (as it is now: the bundle is reloaded when its file changes): chain, validity at the gateway's time, clientAuth.
/// A certificate that is presented and does not verify fails the handshake, whether certificates are optional or
/// required; no certificate fails it only when they are required.
/// </summary>
internal sealed partial class ClientCertificateVerifier
{
    private readonly ReloadingPem<X509Certificate2Collection> _trust;
    private readonly ClientCertificateRequirement _mode;
    private readonly TimeProvider _timeProvider;
    private readonly string _segment;
    private readonly ILogger _logger;

    public ClientCertificateVerifier(ReloadingPem<X509Certificate2Collection> trust, ClientCertificateRequirement mode, TimeProvider timeProvider, string segment,
        ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(trust);
        _trust = trust;
        _mode = mode;
        _timeProvider = timeProvider;
        _segment = segment;
        _logger = logger;
    }

    /// <summary>The CA bundle in force.</summary>
    public ReloadingPem<X509Certificate2Collection> Trust => _trust;

    /// <summary>The handshake's verdict on what the caller sent (the <see cref="RemoteCertificateValidationCallback"/> of the listener).</summary>
    public bool Verify(X509Certificate? certificate, X509Chain? presented)
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

        if (ChainVerification.Problem(certificate, presented, _trust.Current, ChainVerification.ClientAuthentication, _timeProvider.GetUtcNow()) is { } problem)
        {
            Log.Refused(_logger, _segment, certificate.Subject, problem);
            return false;
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
