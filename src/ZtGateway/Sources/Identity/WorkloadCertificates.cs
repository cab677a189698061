using System.Security.Cryptography.X509Certificates;
using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Engine;

namespace ZtGateway.Sources.Identity;

/// <summary>
/// Puts the client certificate of a request's connection beside its token, once per request, after the token cache
/// (docs/design.md section 3): an X.509-SVID of a configured trust domain authenticates its workload as a token
/// naming it would; a token bound to a certificate (<c>cnf</c> <c>x5t#S256</c>, RFC 8705) is valid only with that
/// certificate; and the outcome says how the credential is bound, for <c>boundToken</c>.
/// </summary>
/// <remarks>
/// The rules, in order: a refused token stays refused (a certificate never rescues it). A valid token bound to a
/// certificate the connection did not present is <see cref="TokenStatus.Invalid"/>. A certificate that names a workload
/// and a valid token must name the same workload, else <see cref="TokenStatus.Invalid"/>. Without a token, a workload
/// certificate is the credential; a certificate that presents itself as an X.509-SVID (a <c>spiffe:</c> URI SAN) but
/// names no workload of a configured trust domain is <see cref="TokenStatus.Invalid"/>, and any other certificate is no
/// credential. With a valid token, a certificate that names no workload is ignored, except as the certificate a bound
/// token names.
/// </remarks>
internal static class WorkloadCertificates
{
    /// <summary>
    /// The verdict on the caller's credentials: the token's, with the connection's certificate taken into account when
    /// the listener asks for client certificates (<c>tls.clientCertificates</c> <c>optional</c> or <c>required</c>).
    /// </summary>
    /// <param name="token">The token's verdict (possibly remembered from an earlier request).</param>
    /// <param name="presented">The client certificate of the connection, as the listener verified it during the handshake; null when none.</param>
    /// <param name="listener">The <c>tls:</c> of the segment whose listener took the request; null for a plain http listener.</param>
    /// <param name="settings"><c>identity.workloadCertificates</c>; null when absent, and then no certificate names a workload.</param>
    public static TokenValidationOutcome Resolve(TokenValidationOutcome token, X509Certificate2? presented, ListenerTls? listener,
        WorkloadCertificateSettings? settings)
    {
        // A listener that asks for no certificate verifies none: whatever a connection may carry is not looked at.
        var verified = listener is { ClientCertificates: not ClientCertificateRequirement.None } ? presented : null;
        return Resolve(token, verified, settings);
    }

    /// <summary>The verdict on the caller's credentials, with <paramref name="certificate"/> taken into account.</summary>
    /// <param name="token">The token's verdict (possibly remembered from an earlier request).</param>
    /// <param name="certificate">The client certificate the listener verified during the handshake, or null when there is none.</param>
    /// <param name="settings"><c>identity.workloadCertificates</c>; null when absent, and then no certificate names a workload.</param>
    internal static TokenValidationOutcome Resolve(TokenValidationOutcome token, X509Certificate2? certificate, WorkloadCertificateSettings? settings)
    {
        ArgumentNullException.ThrowIfNull(token);
        if (certificate is null && token.ConfirmationThumbprint is null)
        {
            // The common case of a bearer token on a plain listener: nothing to compare, nothing allocated.
            return token;
        }

        var reading = certificate is null ? null : X509Svid.Read(certificate);
        var (named, failure) = Named(reading, settings);
        switch (token.Status)
        {
            case TokenStatus.Missing when named is not null:
                return new TokenValidationOutcome(TokenStatus.Valid, named, null, "ok: workload certificate", certificate!.NotAfter.ToUniversalTime())
                {
                    Binding = CredentialBinding.Certificate,
                };
            case TokenStatus.Missing when failure is not null:
                return token with { Status = TokenStatus.Invalid, Detail = failure };
            case TokenStatus.Valid:
                break;
            default:
                return token;
        }

        var binding = CredentialBinding.None;
        if (token.ConfirmationThumbprint is { } bound)
        {
            if (reading is null || !string.Equals(reading.Thumbprint, bound, StringComparison.Ordinal))
            {
                return token with
                {
                    Status = TokenStatus.Invalid,
                    Principal = null,
                    BoundToAnotherCertificate = true,
                    Detail = reading is null
                        ? "token is bound to a client certificate (cnf x5t#S256) and the connection presented none"
                        : "token is bound to another client certificate (cnf x5t#S256 differs from the connection's)",
                };
            }

            binding = CredentialBinding.BoundToken;
        }

        if (named is not null)
        {
            var principal = token.Principal!;
            if (principal.Kind != PrincipalKind.Workload || !string.Equals(principal.WorkloadId, named.WorkloadId, StringComparison.Ordinal))
            {
                return token with
                {
                    Status = TokenStatus.Invalid,
                    Principal = null,
                    Detail = principal.Kind == PrincipalKind.Workload
                        ? $"client certificate names workload {named.WorkloadId}; the token names workload {principal.WorkloadId}"
                        : $"client certificate names workload {named.WorkloadId}; the token is a user's",
                };
            }

            if (binding == CredentialBinding.None)
            {
                binding = CredentialBinding.Certificate;
            }
        }

        return binding == CredentialBinding.None ? token : token with { Binding = binding };
    }

    // The workload the certificate names, or why a certificate that presents itself as an X.509-SVID names none.
    private static (Principal? Named, string? Failure) Named(X509SvidReading? reading, WorkloadCertificateSettings? settings)
    {
        if (reading is null || settings is null || !reading.ClaimsSpiffe)
        {
            return (null, null);
        }

        if (reading.Workload is not { } workload)
        {
            return (null, "client certificate is not an X.509-SVID: " + reading.Failure);
        }

        foreach (var domain in settings.TrustDomains)
        {
            if (string.Equals(domain, reading.TrustDomain, StringComparison.Ordinal))
            {
                return (workload, null);
            }
        }

        return (null, $"client certificate {workload.WorkloadId} is of trust domain {reading.TrustDomain}, which identity.workloadCertificates.trustDomains does not name");
    }
}
