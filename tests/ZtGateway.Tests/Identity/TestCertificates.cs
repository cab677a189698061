using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace ZtGateway.Tests.Identity;

/// <summary>Client certificates made in the test (EC P-256, self-signed): X.509-SVIDs and certificates that only look like one.</summary>
internal static class TestCertificates
{
    public const string PayrollEngine = "spiffe://corp.example/hr/payroll-engine";

    /// <summary>
    /// A certificate with the given URI SANs (none when empty), a key usage (none when null), and basic constraints
    /// marking it a CA or not (none when null).
    /// </summary>
    public static X509Certificate2 Create(
        string[] uris,
        X509KeyUsageFlags? keyUsage = X509KeyUsageFlags.DigitalSignature,
        bool? certificateAuthority = false,
        string? dnsName = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=test workload", key, HashAlgorithmName.SHA256);
        if (uris.Length > 0 || dnsName is not null)
        {
            request.CertificateExtensions.Add(SubjectAlternativeNames(uris, dnsName));
        }

        if (keyUsage is { } usage)
        {
            request.CertificateExtensions.Add(new X509KeyUsageExtension(usage, critical: true));
        }

        if (certificateAuthority is { } ca)
        {
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(ca, false, 0, critical: true));
        }

        var now = DateTimeOffset.UtcNow;
        return request.CreateSelfSigned(now.AddMinutes(-5), now.AddHours(1));
    }

    // SubjectAlternativeNameBuilder takes a Uri, which lower-cases the scheme and host and resolves dot segments: the
    // names a test means to be malformed are written as given, with the ASN.1 writer; the others with the builder.
    private static X509Extension SubjectAlternativeNames(string[] uris, string? dnsName)
    {
        if (uris.All(u => Uri.TryCreate(u, UriKind.Absolute, out var parsed) && parsed.AbsoluteUri == u))
        {
            var builder = new SubjectAlternativeNameBuilder();
            if (dnsName is not null)
            {
                builder.AddDnsName(dnsName);
            }

            foreach (var uri in uris)
            {
                builder.AddUri(new Uri(uri, UriKind.Absolute));
            }

            return builder.Build(critical: false);
        }

        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            if (dnsName is not null)
            {
                writer.WriteCharacterString(UniversalTagNumber.IA5String, dnsName, new Asn1Tag(TagClass.ContextSpecific, 2));
            }

            foreach (var uri in uris)
            {
                writer.WriteCharacterString(UniversalTagNumber.IA5String, uri, new Asn1Tag(TagClass.ContextSpecific, 6));
            }
        }

        return new X509Extension("2.5.29.17", writer.Encode(), critical: false);
    }

    /// <summary>A valid X.509-SVID of <paramref name="spiffeId"/>.</summary>
    public static X509Certificate2 Svid(string spiffeId = PayrollEngine) => Create([spiffeId]);

    /// <summary>The RFC 8705 thumbprint of <paramref name="certificate"/>, computed independently of the product code.</summary>
    public static string Thumbprint(X509Certificate2 certificate) =>
        Convert.ToBase64String(SHA256.HashData(certificate.RawData)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
