using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using ZtGateway.Policy.Configuration;

namespace ZtGateway.Policy.Loading;

/// <summary>Whether a load checks the key files the policy names (see <see cref="PolicyLoadOptions"/>).</summary>
public enum KeyFileCheck
{
    /// <summary>Every trust file (JWKS, a CA file), the sign-in client secret and the assertion signing key must exist, be readable and be of its kind.</summary>
    Required,

    /// <summary>Key files are not opened: for analyses of the policy and for the command that creates development keys.</summary>
    Skip,
}

/// <summary>How <see cref="PolicyLoader"/> loads.</summary>
public sealed record PolicyLoadOptions
{
    /// <summary>What a gateway start and <c>ztgw validate</c> use.</summary>
    public static readonly PolicyLoadOptions Default = new();

    /// <summary>Whether key files are checked. Defaults to <see cref="KeyFileCheck.Required"/>.</summary>
    public KeyFileCheck KeyFiles { get; init; } = KeyFileCheck.Required;
}

/// <summary>
/// The files a policy trusts or signs with. A trust anchor that is missing is an error like any other bad value,
/// never a reason to make a new key: a gateway start never writes keys.
/// </summary>
internal static class KeyFiles
{
    // A JWKS is small; a larger file is not one.
    private const long MaxKeyFileBytes = 1024 * 1024;

    private const string DevelopmentHint = "for development, 'ztgw dev keys --config <gateway.yaml>' creates the key files the config names";

    /// <summary>Null when <paramref name="path"/> holds a JWKS document with at least one key; else why not.</summary>
    public static string? JwksProblem(string path)
    {
        var (text, problem) = Read(path);
        if (text is null)
        {
            return problem;
        }

        try
        {
            using var document = JsonDocument.Parse(text);
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("keys", out var keys)
                || keys.ValueKind != JsonValueKind.Array)
            {
                return "is not a JWKS document (a JSON object with a \"keys\" array)";
            }

            return keys.GetArrayLength() == 0 ? "is a JWKS document with no keys" : null;
        }
        catch (JsonException ex)
        {
            return $"is not a JWKS document: {ex.Message}";
        }
    }

    /// <summary>Null when <paramref name="path"/> holds at least one PEM certificate; else why not.</summary>
    public static string? CertificateProblem(string path)
    {
        var (text, problem) = Read(path, "does not exist");
        if (text is null)
        {
            return problem;
        }

        try
        {
            var certificates = new X509Certificate2Collection();
            certificates.ImportFromPem(text);
            var count = certificates.Count;
            foreach (var certificate in certificates)
            {
                certificate.Dispose();
            }

            return count == 0 ? "holds no PEM certificate (-----BEGIN CERTIFICATE-----)" : null;
        }
        catch (CryptographicException ex)
        {
            return $"is not a PEM certificate file: {ex.Message}";
        }
    }

    /// <summary>Null when <paramref name="path"/> holds a PEM private key; else why not.</summary>
    public static string? PrivateKeyProblem(string path)
    {
        var (text, problem) = Read(path);
        if (text is null)
        {
            return problem;
        }

        return text.Contains("-----BEGIN", StringComparison.Ordinal) && text.Contains("PRIVATE KEY-----", StringComparison.Ordinal)
            ? null
            : "is not a PEM private key";
    }

    /// <summary>Reports every key file of <paramref name="gateway"/> that cannot be used, at the line that names it.</summary>
    public static void Check(GatewayConfig gateway, KeyLocations locations, DiagnosticBag diagnostics)
    {
        foreach (var (path, location, name) in locations.Jwks)
        {
            if (JwksProblem(path) is { } problem)
            {
                diagnostics.Error(location, $"{name} '{Shown(gateway, path)}' {problem}");
            }
        }

        foreach (var (path, location, name) in locations.Certificates)
        {
            if (CertificateProblem(path) is { } problem)
            {
                diagnostics.Error(location, $"{name} '{Shown(gateway, path)}' {problem}");
            }
        }

        if (locations.ClientSecret is { } secret && SecretFiles.Read(secret.Path).Problem is { } secretProblem)
        {
            diagnostics.Error(secret.Location, $"signIn.clientSecretFile '{Shown(gateway, secret.Path)}' {secretProblem}");
        }

        var signing = gateway.Assertion.SigningKeyFile;
        if (PrivateKeyProblem(signing) is { } signingProblem)
        {
            diagnostics.Error(locations.SigningKey, $"assertion.signingKeyFile '{Shown(gateway, signing)}' {signingProblem}");
        }
    }

    /// <summary>
    /// Reports every TLS file of the segments that cannot be used, at the line that names it: a listener's certificate and
    /// key (a pair that belongs together, the key not readable by every user), its client CA bundle, and each service's CA
    /// bundle and client certificate and key. Read with <see cref="TlsFiles"/>, as the gateway reads them.
    /// </summary>
    public static void CheckTransport(GatewayConfig gateway, IEnumerable<SegmentConfig> segments, DiagnosticBag diagnostics)
    {
        foreach (var segment in segments)
        {
            if (segment.Tls is { } tls)
            {
                CheckPair(gateway, tls.Certificate, tls.Key, CertificatePurpose.Server, "tls.certificate", "tls.key", diagnostics);
                CheckBundle(gateway, tls.ClientCa, "tls.clientCA", diagnostics);
            }

            foreach (var service in segment.Services.Values)
            {
                if (service.Tls is not { } upstream)
                {
                    continue;
                }

                var scope = $"service '{service.Name}': ";
                CheckBundle(gateway, upstream.Ca, scope + "tls.ca", diagnostics);
                if (upstream is { ClientCertificate: { } certificate, ClientKey: { } key })
                {
                    CheckPair(gateway, certificate, key, CertificatePurpose.Client, scope + "tls.clientCertificate", scope + "tls.clientKey", diagnostics);
                }
            }
        }
    }

    private static void CheckPair(GatewayConfig gateway, PemFile certificate, PemFile key, CertificatePurpose purpose, string certificateName, string keyName,
        DiagnosticBag diagnostics)
    {
        var shownCertificate = $"{certificateName} '{Shown(gateway, certificate.Path)}'";
        var pair = TlsFiles.LoadPair(certificate.Path, key.Path, purpose, shownCertificate);
        pair.Certificate?.Dispose();
        if (pair.CertificateProblem is { } certificateProblem)
        {
            diagnostics.Error(certificate.Location, $"{shownCertificate} {certificateProblem}");
        }

        if (pair.KeyProblem is { } keyProblem)
        {
            diagnostics.Error(key.Location, $"{keyName} '{Shown(gateway, key.Path)}' {keyProblem}");
        }
    }

    private static void CheckBundle(GatewayConfig gateway, PemFile? bundle, string name, DiagnosticBag diagnostics)
    {
        if (bundle is null)
        {
            return;
        }

        var (certificates, problem) = TlsFiles.LoadBundle(bundle.Path);
        foreach (var certificate in certificates ?? [])
        {
            certificate.Dispose();
        }

        if (problem is not null)
        {
            diagnostics.Error(bundle.Location, $"{name} '{Shown(gateway, bundle.Path)}' {problem}");
        }
    }

    internal static (string? Text, string? Problem) Read(string path, string missing = "does not exist (a key file is never created at start; " + DevelopmentHint + ")")
    {
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                return (null, Directory.Exists(path) ? "is a folder, not a file" : missing);
            }

            if (info.Length > MaxKeyFileBytes)
            {
                return (null, $"is larger than {MaxKeyFileBytes / 1024} KiB");
            }

            return (File.ReadAllText(path), null);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException or System.Security.SecurityException)
        {
            return (null, $"cannot be read: {ex.Message}");
        }
    }

    private static string Shown(GatewayConfig gateway, string path)
    {
        var folder = Path.GetDirectoryName(gateway.FilePath);
        return folder is null ? path : Path.GetRelativePath(folder, path);
    }
}

/// <summary>Where gateway.yaml names each key file, collected while mapping.</summary>
internal sealed class KeyLocations
{
    public List<(string Path, SourceLocation Location, string Name)> Jwks { get; } = [];

    /// <summary>PEM files of certificate authorities (an OTLP audit sink's <c>ca</c>, <c>device.certificates.ca</c>).</summary>
    public List<(string Path, SourceLocation Location, string Name)> Certificates { get; } = [];

    public SourceLocation SigningKey { get; set; } = new(string.Empty, 1, 1);

    /// <summary><c>signIn.clientSecretFile</c> and where its value is written; null when not written or not a path.</summary>
    public (string Path, SourceLocation Location)? ClientSecret { get; set; }
}

/// <summary>
/// The one reading of a secret file (<c>signIn.clientSecretFile</c>): the loader checks it with it and the gateway reads
/// the secret with it, so that what validation accepts is what is sent. No problem it states repeats the secret.
/// </summary>
public static class SecretFiles
{
    /// <summary>Said of a secret file that is not there.</summary>
    public const string Missing = "does not exist (write on its first line the client secret the identity provider issued, readable by its owner only)";

    /// <summary>
    /// The secret: the first line of <paramref name="path"/>, trimmed. Null and why when the file cannot be used: it is
    /// missing, a folder, larger than 1 MiB or unreadable, readable by every user, or its first line is empty.
    /// </summary>
    public static (string? Secret, string? Problem) Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var (text, problem) = KeyFiles.Read(path, Missing);
        if (text is null)
        {
            return (null, problem);
        }

        if (TlsFiles.PermissionProblem(path) is { } permission)
        {
            return (null, permission);
        }

        var end = text.IndexOfAny(['\r', '\n']);
        var secret = (end < 0 ? text : text[..end]).Trim();
        if (secret.Length == 0)
        {
            return (null, text.Trim().Length == 0
                ? "is empty (the client secret is its first line)"
                : "has an empty first line (the client secret is its first line)");
        }

        return (secret, null);
    }
}
