using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace ZtGateway.IntegrationTests.Infrastructure;

/// <summary>
/// A certificate authority made for one test with <see cref="CertificateRequest"/>: it issues server certificates for
/// loopback, client certificates (with a SPIFFE URI if asked), and writes them as the PEM files a segment names.
/// </summary>
public sealed class TestPki : IDisposable
{
    public const string ServerAuth = "1.3.6.1.5.5.7.3.1";
    public const string ClientAuth = "1.3.6.1.5.5.7.3.2";

    private TestPki(X509Certificate2 certificate) => Certificate = certificate;

    /// <summary>The CA certificate, with its key.</summary>
    public X509Certificate2 Certificate { get; }

    public static TestPki Create(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return new TestPki(request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30)));
    }

    /// <summary>A server certificate for <paramref name="name"/> and (unless <paramref name="loopback"/> is false) 127.0.0.1, ::1 and localhost.</summary>
    public X509Certificate2 Server(string name = "localhost", bool rsa = false, bool loopback = true)
    {
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(name);
        if (loopback)
        {
            san.AddDnsName("localhost");
            san.AddIpAddress(IPAddress.Loopback);
            san.AddIpAddress(IPAddress.IPv6Loopback);
        }

        return Issue(name, ServerAuth, san.Build(), rsa);
    }

    /// <summary>A client certificate; with <paramref name="spiffeId"/> its URI SAN.</summary>
    public X509Certificate2 Client(string name, string? spiffeId = null, string usage = ClientAuth, DateTimeOffset? notAfter = null)
    {
        X509Extension? san = null;
        if (spiffeId is not null)
        {
            var builder = new SubjectAlternativeNameBuilder();
            builder.AddUri(new Uri(spiffeId));
            san = builder.Build();
        }

        return Issue(name, usage, san, rsa: false, notAfter);
    }

    /// <summary>Writes the CA certificate as a PEM bundle.</summary>
    public string WriteCa(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, Certificate.ExportCertificatePem() + "\n");
        return path;
    }

    /// <summary>Writes a certificate and its key (mode 0600) as PEM files.</summary>
    public static void WritePair(X509Certificate2 certificate, string certificatePath, string keyPath)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(certificatePath)!);
        File.WriteAllText(certificatePath, certificate.ExportCertificatePem() + "\n");
        using AsymmetricAlgorithm key = (AsymmetricAlgorithm?)certificate.GetECDsaPrivateKey() ?? certificate.GetRSAPrivateKey()!;
        WriteKey(keyPath, key.ExportPkcs8PrivateKeyPem());
    }

    public static void WriteKey(string path, string pem)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, pem + "\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }

    /// <summary>A client-side check that accepts exactly a chain to this CA, as a caller that trusts it would.</summary>
    public bool Trusts(X509Certificate2? certificate)
    {
        if (certificate is null)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(Certificate);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }

    public void Dispose() => Certificate.Dispose();

    private X509Certificate2 Issue(string name, string usage, X509Extension? san, bool rsa, DateTimeOffset? notAfter = null)
    {
        using AsymmetricAlgorithm key = rsa ? RSA.Create(2048) : ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = key is RSA r
            ? new CertificateRequest($"CN={name}", r, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            : new CertificateRequest($"CN={name}", (ECDsa)key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | (rsa ? X509KeyUsageFlags.KeyEncipherment : 0), true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(usage)], false));
        if (san is not null)
        {
            request.CertificateExtensions.Add(san);
        }

        var end = notAfter ?? DateTimeOffset.UtcNow.AddDays(7);
        var start = end < DateTimeOffset.UtcNow ? end.AddDays(-7) : DateTimeOffset.UtcNow.AddHours(-1);
        using var caKey = Certificate.GetECDsaPrivateKey()!;
        using var issued = request.Create(Certificate.SubjectName, X509SignatureGenerator.CreateForECDsa(caKey), start, end, RandomNumberGenerator.GetBytes(12));
        return key is RSA rsaKey ? issued.CopyWithPrivateKey(rsaKey) : issued.CopyWithPrivateKey((ECDsa)key);
    }
}
