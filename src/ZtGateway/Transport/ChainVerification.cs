using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace ZtGateway.Transport;

/// <summary>
/// The one chain check of this folder: a certificate must chain to one of exactly the configured anchors (the system
/// store plays no part), be within its validity at the gateway's time, and allow the purpose asked of it through every
/// certificate of the chain. Nothing is fetched: no intermediates, no revocation lists.
/// </summary>
internal static class ChainVerification
{
    /// <summary>serverAuth, 1.3.6.1.5.5.7.3.1.</summary>
    public static readonly Oid ServerAuthentication = new("1.3.6.1.5.5.7.3.1", "Server Authentication");

    /// <summary>clientAuth, 1.3.6.1.5.5.7.3.2.</summary>
    public static readonly Oid ClientAuthentication = new("1.3.6.1.5.5.7.3.2", "Client Authentication");

    /// <summary>Null when <paramref name="certificate"/> verifies; else why not, in words for a log line.</summary>
    /// <param name="certificate">The certificate presented.</param>
    /// <param name="presented">The chain TLS built from what the peer sent; its certificates serve as intermediates only.</param>
    /// <param name="anchors">The trusted CA certificates.</param>
    /// <param name="purpose">The extended key usage the chain must allow.</param>
    /// <param name="now">The time validity is judged at.</param>
    public static string? Problem(X509Certificate certificate, X509Chain? presented, X509Certificate2Collection anchors, Oid purpose, DateTimeOffset now)
    {
        var leaf = certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        try
        {
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.AddRange(anchors);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            chain.ChainPolicy.DisableCertificateDownloads = true;
            chain.ChainPolicy.VerificationTime = now.UtcDateTime;
            chain.ChainPolicy.VerificationTimeIgnored = false;
            chain.ChainPolicy.ApplicationPolicy.Add(purpose);
            if (presented is not null)
            {
                foreach (var element in presented.ChainElements)
                {
                    chain.ChainPolicy.ExtraStore.Add(element.Certificate);
                }
            }

            if (chain.Build(leaf))
            {
                return KeyUsageProblem(leaf, purpose);
            }

            var statuses = chain.ChainStatus.Select(s => s.Status).Where(s => s != X509ChainStatusFlags.NoError).Distinct();
            return "its chain does not verify (" + string.Join(", ", statuses) + ")";
        }
        finally
        {
            if (!ReferenceEquals(leaf, certificate))
            {
                leaf.Dispose();
            }
        }
    }

    // RFC 5280 4.2.1.3: a key usage, when present, must allow what TLS does with the key (sign; for a client also agree).
    private static string? KeyUsageProblem(X509Certificate2 leaf, Oid purpose)
    {
        var usage = leaf.Extensions.OfType<X509KeyUsageExtension>().FirstOrDefault();
        if (usage is null)
        {
            return null;
        }

        var allowed = X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyAgreement;
        if (purpose.Value == ServerAuthentication.Value)
        {
            allowed |= X509KeyUsageFlags.KeyEncipherment;
        }

        return (usage.KeyUsages & allowed) != 0 ? null : $"its key usage ({usage.KeyUsages}) does not allow {purpose.FriendlyName}";
    }
}
