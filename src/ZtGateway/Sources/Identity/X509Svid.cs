using System.Formats.Asn1;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Engine;

namespace ZtGateway.Sources.Identity;

/// <summary>What a client certificate says as an X.509-SVID, whatever the trust domains configured.</summary>
/// <param name="Thumbprint">The certificate's <c>x5t#S256</c>: base64url SHA-256 of its DER form.</param>
/// <param name="ClaimsSpiffe">It carries a <c>spiffe:</c> URI SAN, so it presents itself as an X.509-SVID.</param>
/// <param name="TrustDomain">The trust domain of its SPIFFE id, when it is a valid X.509-SVID.</param>
/// <param name="Workload">The workload it names, when it is a valid X.509-SVID: the principal a token naming it would give.</param>
/// <param name="Failure">Why it is not a valid X.509-SVID (for logs), or null.</param>
internal sealed record X509SvidReading(string Thumbprint, bool ClaimsSpiffe, string? TrustDomain, Principal? Workload, string? Failure);

/// <summary>
/// Reads a verified client certificate as an X.509-SVID (SPIFFE X509-SVID standard): exactly one URI SAN holding a
/// valid SPIFFE id of a workload, on a leaf certificate (not a CA; a key usage, when present, with
/// <c>digitalSignature</c> and without <c>keyCertSign</c> or <c>cRLSign</c>). The chain and validity are the
/// listener's to verify, during the handshake; this only reads what a verified certificate names.
/// </summary>
/// <remarks>
/// A reading depends on the certificate alone and is kept with it (a listener hands every request of a connection the
/// same certificate object), so a connection's certificate is parsed and hashed once, and its requests share one
/// <see cref="Principal"/>.
/// </remarks>
internal static class X509Svid
{
    private const string SubjectAltNameOid = "2.5.29.17";
    private static readonly Asn1Tag UriTag = new(TagClass.ContextSpecific, 6);
    private static readonly ConditionalWeakTable<X509Certificate2, X509SvidReading> Readings = [];

    /// <summary>Reads <paramref name="certificate"/> (once per certificate object).</summary>
    public static X509SvidReading Read(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return Readings.GetValue(certificate, static c => ReadUncached(c));
    }

    internal static X509SvidReading ReadUncached(X509Certificate2 certificate)
    {
        var thumbprint = TokenConfirmation.ThumbprintOf(certificate.RawDataMemory.Span);
        try
        {
            return Read(certificate, thumbprint);
        }
        catch (Exception ex) when (ex is AsnContentException or CryptographicException or InvalidOperationException)
        {
            // Extensions that cannot be decoded name nothing; counted as a claim, so that alone it is refused, not ignored.
            return new X509SvidReading(thumbprint, true, null, null, "its extensions cannot be read");
        }
    }

    private static X509SvidReading Read(X509Certificate2 certificate, string thumbprint)
    {
        X509SvidReading Not(bool claims, string failure) => new(thumbprint, claims, null, null, failure);

        var uris = UriNames(certificate);

        var claims = uris.Exists(u => u.StartsWith("spiffe:", StringComparison.OrdinalIgnoreCase));
        if (!claims)
        {
            return Not(false, "it has no spiffe:// URI SAN");
        }

        if (uris.Count != 1)
        {
            return Not(true, $"it has {uris.Count} URI SANs; an X.509-SVID has exactly one");
        }

        if (LeafFailure(certificate) is { } leaf)
        {
            return Not(true, leaf);
        }

        var id = uris[0];
        if (SpiffeId.CheckWorkloadId(id, out var trustDomain) is { } syntax)
        {
            return Not(true, "its SPIFFE id " + syntax);
        }

        var workload = PrincipalMapper.MapWorkloadCertificate(id, trustDomain, new DateTimeOffset(certificate.NotBefore.ToUniversalTime(), TimeSpan.Zero));
        return new X509SvidReading(thumbprint, true, trustDomain, workload, null);
    }

    private static string? LeafFailure(X509Certificate2 certificate)
    {
        foreach (var extension in certificate.Extensions)
        {
            switch (extension)
            {
                case X509BasicConstraintsExtension { CertificateAuthority: true }:
                    return "it is a CA certificate; an X.509-SVID of a workload is a leaf";
                case X509KeyUsageExtension usage when (usage.KeyUsages & (X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign)) != 0:
                    return "its key usage allows signing certificates or CRLs; an X.509-SVID of a workload is a leaf";
                case X509KeyUsageExtension usage when (usage.KeyUsages & X509KeyUsageFlags.DigitalSignature) == 0:
                    return "its key usage lacks digitalSignature";
            }
        }

        return null;
    }

    /// <summary>Every uniformResourceIdentifier of the subject alternative name extension, in order; other kinds of name are skipped.</summary>
    /// <exception cref="InvalidOperationException">The certificate has more than one subject alternative name extension.</exception>
    /// <exception cref="AsnContentException">The extension is not DER.</exception>
    internal static List<string> UriNames(X509Certificate2 certificate)
    {
        var uris = new List<string>();
        var seen = false;
        foreach (var extension in certificate.Extensions)
        {
            if (extension.Oid?.Value != SubjectAltNameOid)
            {
                continue;
            }

            if (seen)
            {
                // RFC 5280 section 4.2: an extension appears at most once; two would be two answers to one question.
                throw new InvalidOperationException("more than one subject alternative name extension");
            }

            seen = true;
            var reader = new AsnReader(extension.RawData, AsnEncodingRules.DER);
            var names = reader.ReadSequence();
            reader.ThrowIfNotEmpty();
            while (names.HasData)
            {
                if (names.PeekTag().HasSameClassAndValue(UriTag))
                {
                    uris.Add(names.ReadCharacterString(UniversalTagNumber.IA5String, UriTag));
                }
                else
                {
                    names.ReadEncodedValue();
                }
            }
        }

        return uris;
    }
}
