using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace ZtGateway.Policy.Loading;

/// <summary>What a certificate is presented for: its extended key usage, when it has one, must allow it.</summary>
public enum CertificatePurpose
{
    /// <summary>A listener's certificate (serverAuth, 1.3.6.1.5.5.7.3.1).</summary>
    Server,

    /// <summary>The gateway's certificate towards an upstream (clientAuth, 1.3.6.1.5.5.7.3.2).</summary>
    Client,
}

/// <summary>A certificate with its private key and the rest of its chain, or why the files cannot be used.</summary>
public sealed record TlsPair
{
    /// <summary>The first certificate of the file, with the private key; null when a problem is set.</summary>
    public X509Certificate2? Certificate { get; init; }

    /// <summary>The other certificates of the file (the intermediates sent with it).</summary>
    public X509Certificate2Collection Intermediates { get; init; } = [];

    /// <summary>Why the certificate file cannot be used.</summary>
    public string? CertificateProblem { get; init; }

    /// <summary>Why the key file cannot be used (including: it does not match the certificate).</summary>
    public string? KeyProblem { get; init; }
}

/// <summary>
/// The one reading of the PEM files of TLS: the loader checks them with it (docs/configuration.md, key files) and the
/// gateway loads them with it at start and whenever they change, so that what validation accepts is what serves.
/// </summary>
public static class TlsFiles
{
    /// <summary>Said of a certificate or key file that is not there.</summary>
    public const string Missing = "does not exist (for development, 'ztgw dev certs --config <gateway.yaml>' creates the sample certificates)";

    private static readonly Oid ServerAuth = new("1.3.6.1.5.5.7.3.1");
    private static readonly Oid ClientAuth = new("1.3.6.1.5.5.7.3.2");

    /// <summary>
    /// Reads a PEM certificate chain and its unencrypted RSA or EC key, and checks that they belong together, that the key
    /// is not readable by every user, and that the certificate may serve <paramref name="purpose"/>.
    /// <paramref name="certificateName"/> names the certificate in the mismatch message ("tls.certificate 'certs/hr.pem'").
    /// </summary>
    public static TlsPair LoadPair(string certificatePath, string keyPath, CertificatePurpose purpose, string certificateName)
    {
        ArgumentNullException.ThrowIfNull(certificatePath);
        ArgumentNullException.ThrowIfNull(keyPath);
        var (chain, certificateProblem) = LoadBundle(certificatePath);
        var (keyText, keyProblem) = ReadKey(keyPath);
        if (chain is null || keyText is null)
        {
            return new TlsPair { CertificateProblem = certificateProblem, KeyProblem = keyProblem };
        }

        var leaf = chain[0];
        if (PurposeProblem(leaf, purpose) is { } purposeProblem)
        {
            return new TlsPair { CertificateProblem = purposeProblem };
        }

        var (withKey, pairProblem) = Combine(leaf, keyText, certificateName);
        if (withKey is null)
        {
            return new TlsPair { KeyProblem = pairProblem };
        }

        var intermediates = new X509Certificate2Collection();
        for (var i = 1; i < chain.Count; i++)
        {
            intermediates.Add(chain[i]);
        }

        leaf.Dispose();
        return new TlsPair { Certificate = withKey, Intermediates = intermediates };
    }

    /// <summary>Reads a file of one or more PEM certificates (a chain, or a CA bundle); null and why when it cannot be used.</summary>
    public static (X509Certificate2Collection? Certificates, string? Problem) LoadBundle(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var (text, problem) = KeyFiles.Read(path, Missing);
        if (text is null)
        {
            return (null, problem);
        }

        var certificates = new X509Certificate2Collection();
        try
        {
            certificates.ImportFromPem(text);
        }
        catch (CryptographicException ex)
        {
            return (null, $"is not a PEM certificate file: {ex.Message}");
        }

        return certificates.Count == 0 ? (null, "holds no PEM certificate (-----BEGIN CERTIFICATE-----)") : (certificates, null);
    }

    /// <summary>Null when the key file is readable only by its owner and group (or the system has no such modes); else why not.</summary>
    public static string? PermissionProblem(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            return null;
        }

        try
        {
            var mode = File.GetUnixFileMode(path);
            if ((mode & (UnixFileMode.OtherRead | UnixFileMode.OtherWrite)) == 0)
            {
                return null;
            }

            var octal = Convert.ToString((int)mode & 0x1FF, 8).PadLeft(4, '0');
            return $"is readable by every user of the machine (mode {octal}); restrict it, e.g. chmod 600";
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return $"cannot be read: {ex.Message}";
        }
    }

    private static (string? Text, string? Problem) ReadKey(string path)
    {
        var (text, problem) = KeyFiles.Read(path, Missing);
        if (text is null)
        {
            return (null, problem);
        }

        if (PermissionProblem(path) is { } permission)
        {
            return (null, permission);
        }

        if (text.Contains("ENCRYPTED PRIVATE KEY", StringComparison.Ordinal) || text.Contains("Proc-Type: 4,ENCRYPTED", StringComparison.Ordinal))
        {
            return (null, "is an encrypted private key; the gateway reads unencrypted PEM keys (protect the file with its permissions)");
        }

        return text.Contains("PRIVATE KEY-----", StringComparison.Ordinal) ? (text, null) : (null, "is not a PEM private key");
    }

    private static string? PurposeProblem(X509Certificate2 certificate, CertificatePurpose purpose)
    {
        var wanted = purpose == CertificatePurpose.Server ? ServerAuth : ClientAuth;
        foreach (var extension in certificate.Extensions)
        {
            if (extension is X509EnhancedKeyUsageExtension usage
                && !usage.EnhancedKeyUsages.Cast<Oid>().Any(o => o.Value == wanted.Value))
            {
                var name = purpose == CertificatePurpose.Server ? "serverAuth" : "clientAuth";
                return $"is not for {(purpose == CertificatePurpose.Server ? "server" : "client")} authentication (its extended key usage lacks {name})";
            }
        }

        return null;
    }

    // The key must be the certificate's: CopyWithPrivateKey compares the public halves. The result is re-imported from
    // PKCS#12 so that TLS can use it on every platform (an ephemeral key is not enough for SslStream on Windows).
    private static (X509Certificate2? Certificate, string? Problem) Combine(X509Certificate2 leaf, string keyText, string certificateName)
    {
        var mismatch = $"does not match {certificateName}";
        try
        {
            X509Certificate2 combined;
            if (leaf.GetRSAPublicKey() is { } rsaPublic)
            {
                rsaPublic.Dispose();
                using var rsa = RSA.Create();
                if (!TryImport(rsa, keyText))
                {
                    return (null, KeyKind(keyText) ? mismatch : "is not a PEM private key (RSA or EC, unencrypted)");
                }

                combined = leaf.CopyWithPrivateKey(rsa);
            }
            else if (leaf.GetECDsaPublicKey() is { } ecPublic)
            {
                ecPublic.Dispose();
                using var ec = ECDsa.Create();
                if (!TryImport(ec, keyText))
                {
                    return (null, KeyKind(keyText) ? mismatch : "is not a PEM private key (RSA or EC, unencrypted)");
                }

                combined = leaf.CopyWithPrivateKey(ec);
            }
            else
            {
                return (null, $"cannot be used: {certificateName} holds neither an RSA nor an EC key");
            }

            using (combined)
            {
                return (X509CertificateLoader.LoadPkcs12(combined.Export(X509ContentType.Pkcs12), password: null), null);
            }
        }
        catch (CryptographicException)
        {
            // CopyWithPrivateKey: "The provided key does not match the public key for this certificate."
            return (null, mismatch);
        }
        catch (ArgumentException)
        {
            return (null, mismatch);
        }
    }

    private static bool TryImport(AsymmetricAlgorithm key, string pem)
    {
        try
        {
            key.ImportFromPem(pem);
            return true;
        }
        catch (Exception ex) when (ex is ArgumentException or CryptographicException)
        {
            return false;
        }
    }

    // Whether the text holds a key of either kind, so that an EC key for an RSA certificate is "does not match".
    private static bool KeyKind(string pem)
    {
        using var rsa = RSA.Create();
        using var ec = ECDsa.Create();
        return TryImport(rsa, pem) || TryImport(ec, pem);
    }
}
