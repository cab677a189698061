using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.Tokens;
using ZtGateway.KeySets;

namespace ZtGateway.DevTools;

/// <summary>
/// Development key material for <c>ztgw dev keys</c>: a private key as PEM (readable by its owner only)
/// and the matching public JWKS that a <c>type: jwks</c> issuer or a posture issuer points at.
/// Never for production keys.
/// </summary>
internal static class DevKeys
{
    private const string JwksSuffix = ".jwks.json";
    private const string PrivateKeySuffix = ".key.pem";

    /// <summary>
    /// Creates an RSA-2048 key pair: the private key as PKCS#8 PEM at <paramref name="privatePemPath"/>
    /// (mode 0600 on Unix) and the public key set at <paramref name="jwksPath"/> with <c>kid</c> = RFC 7638
    /// thumbprint, <c>alg</c> = RS256, <c>use</c> = sig.
    /// </summary>
    /// <exception cref="IOException">A file exists and <paramref name="overwrite"/> is false.</exception>
    public static void CreateRsa(string privatePemPath, string jwksPath, bool overwrite)
    {
        EnsureWritable(privatePemPath, jwksPath, overwrite);
        using var rsa = RSA.Create(2048);
        Write(privatePemPath, jwksPath, rsa.ExportPkcs8PrivateKeyPem(), PublicJwk(rsa));
    }

    /// <summary>As <see cref="CreateRsa"/>, with an EC P-256 key for ES256.</summary>
    /// <exception cref="IOException">A file exists and <paramref name="overwrite"/> is false.</exception>
    public static void CreateEc(string privatePemPath, string jwksPath, bool overwrite)
    {
        EnsureWritable(privatePemPath, jwksPath, overwrite);
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        Write(privatePemPath, jwksPath, ecdsa.ExportPkcs8PrivateKeyPem(), PublicJwk(ecdsa));
    }

    /// <summary>
    /// Creates the gateway's EC P-256 assertion signing key as PKCS#8 PEM (mode 0600 on Unix); upstreams fetch its
    /// public half from <c>/.well-known/ztgw/jwks.json</c>.
    /// </summary>
    /// <exception cref="IOException">The file exists and <paramref name="overwrite"/> is false.</exception>
    public static void CreateSigningKey(string privatePemPath, bool overwrite)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(privatePemPath);
        if (!overwrite && File.Exists(privatePemPath))
        {
            throw new IOException($"{privatePemPath} already exists; pass overwrite to replace it.");
        }

        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        WriteFile(privatePemPath, ecdsa.ExportPkcs8PrivateKeyPem(), ownerOnly: true);
    }

    /// <summary>The private key that belongs beside a JWKS: <c>keys/idp.jwks.json</c> gives <c>keys/idp.key.pem</c>.</summary>
    public static string PrivateKeyPathFor(string jwksPath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(jwksPath);
        var stem = jwksPath.EndsWith(JwksSuffix, StringComparison.OrdinalIgnoreCase)
            ? jwksPath[..^JwksSuffix.Length]
            : Path.Join(Path.GetDirectoryName(jwksPath), Path.GetFileNameWithoutExtension(jwksPath));
        return stem + PrivateKeySuffix;
    }

    /// <summary>
    /// Loads a PEM private key written by <see cref="CreateRsa"/> or <see cref="CreateEc"/> (or any PKCS#8,
    /// PKCS#1 or SEC1 key): RS256 for RSA, ES256/384/512 for EC by curve, with the same <c>kid</c> as in the JWKS.
    /// </summary>
    /// <exception cref="InvalidDataException">The file holds no usable private key.</exception>
    public static SigningCredentials LoadSigningCredentials(string privatePemPath)
    {
        var pem = File.ReadAllText(privatePemPath);

        var rsa = RSA.Create();
        try
        {
            rsa.ImportFromPem(pem);
            if (rsa.KeySize < 2048)
            {
                throw new InvalidDataException($"{privatePemPath}: RSA keys shorter than 2048 bits are not accepted.");
            }

            var key = new RsaSecurityKey(rsa);
            key.KeyId = JsonWebKeySetWriter.Thumbprint(key);
            return new SigningCredentials(key, SecurityAlgorithms.RsaSha256);
        }
        catch (CryptographicException)
        {
            rsa.Dispose();
        }
        catch (ArgumentException)
        {
            rsa.Dispose();
        }

        var ecdsa = ECDsa.Create();
        try
        {
            ecdsa.ImportFromPem(pem);
            var algorithm = EcAlgorithm(ecdsa) ?? throw new InvalidDataException($"{privatePemPath}: unsupported EC key size {ecdsa.KeySize}.");
            var key = new ECDsaSecurityKey(ecdsa);
            key.KeyId = JsonWebKeySetWriter.Thumbprint(key);
            return new SigningCredentials(key, algorithm);
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException)
        {
            ecdsa.Dispose();
            throw new InvalidDataException($"{privatePemPath}: no RSA or EC private key found.", ex);
        }
    }

    /// <summary>The public JWK of an RSA key, with kid (its RFC 7638 thumbprint), alg and use.</summary>
    internal static Dictionary<string, string> PublicJwk(RSA rsa)
        => JsonWebKeySetWriter.PublicJwk(new RsaSecurityKey(rsa), SecurityAlgorithms.RsaSha256);

    /// <summary>The public JWK of an EC key, with kid (its RFC 7638 thumbprint), alg (by curve) and use.</summary>
    internal static Dictionary<string, string> PublicJwk(ECDsa ecdsa)
    {
        var algorithm = EcAlgorithm(ecdsa) ?? throw new NotSupportedException($"EC key size {ecdsa.KeySize} has no JWK curve name.");
        return JsonWebKeySetWriter.PublicJwk(new ECDsaSecurityKey(ecdsa), algorithm);
    }

    private static string? EcAlgorithm(ECDsa ecdsa) => ecdsa.KeySize switch
    {
        256 => SecurityAlgorithms.EcdsaSha256,
        384 => SecurityAlgorithms.EcdsaSha384,
        521 => SecurityAlgorithms.EcdsaSha512,
        _ => null,
    };

    private static void EnsureWritable(string privatePemPath, string jwksPath, bool overwrite)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(privatePemPath);
        ArgumentException.ThrowIfNullOrWhiteSpace(jwksPath);
        if (string.Equals(Path.GetFullPath(privatePemPath), Path.GetFullPath(jwksPath), StringComparison.Ordinal))
        {
            throw new ArgumentException("The private key and the JWKS must be different files.", nameof(jwksPath));
        }

        if (overwrite)
        {
            return;
        }

        // Checked before anything is written, so a refusal never leaves a half-replaced pair behind.
        foreach (var path in new[] { privatePemPath, jwksPath })
        {
            if (File.Exists(path))
            {
                throw new IOException($"{path} already exists; pass overwrite to replace it.");
            }
        }
    }

    private static void Write(string privatePemPath, string jwksPath, string privatePem, Dictionary<string, string> publicJwk)
    {
        var jwks = JsonWebKeySetWriter.Write([publicJwk], indented: true);
        WriteFile(privatePemPath, privatePem, ownerOnly: true);
        WriteFile(jwksPath, jwks + "\n", ownerOnly: false);
    }

    // Written beside the target and moved into place, so the key is never readable by others, not even briefly.
    internal static void WriteFile(string path, string content, bool ownerOnly)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        var temporary = Path.Join(directory, "." + Path.GetFileName(path) + "." + Guid.NewGuid().ToString("N") + ".tmp");
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (ownerOnly && !OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        try
        {
            using (var stream = new FileStream(temporary, options))
            using (var writer = new StreamWriter(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false)))
            {
                writer.Write(content);
            }

            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary))
            {
                File.Delete(temporary);
            }
        }
    }
}
