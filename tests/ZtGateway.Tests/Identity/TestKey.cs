using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.IdentityModel.Tokens;
using ZtGateway.DevTools;

namespace ZtGateway.Tests.Identity;

/// <summary>A signing key made for one test, with its public JWK.</summary>
internal sealed class TestKey : IDisposable
{
    private readonly AsymmetricAlgorithm _algorithm;

    private TestKey(AsymmetricAlgorithm algorithm, SecurityKey key, string algorithmName, Dictionary<string, string> publicJwk)
    {
        _algorithm = algorithm;
        Key = key;
        Algorithm = algorithmName;
        PublicJwk = publicJwk;
    }

    public SecurityKey Key { get; }

    public string Algorithm { get; }

    public string Kid => Key.KeyId;

    public Dictionary<string, string> PublicJwk { get; }

    public SigningCredentials Credentials => new(Key, Algorithm);

    public static TestKey Rsa()
    {
        var rsa = RSA.Create(2048);
        var jwk = DevKeys.PublicJwk(rsa);
        return new TestKey(rsa, new RsaSecurityKey(rsa) { KeyId = jwk["kid"] }, SecurityAlgorithms.RsaSha256, jwk);
    }

    public static TestKey Ec()
    {
        var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var jwk = DevKeys.PublicJwk(ecdsa);
        return new TestKey(ecdsa, new ECDsaSecurityKey(ecdsa) { KeyId = jwk["kid"] }, SecurityAlgorithms.EcdsaSha256, jwk);
    }

    /// <summary>Credentials that sign with this key but name <paramref name="kid"/> in the header.</summary>
    public SigningCredentials CredentialsWithKid(string kid)
    {
        SecurityKey key = _algorithm switch
        {
            RSA rsa => new RsaSecurityKey(rsa) { KeyId = kid },
            ECDsa ecdsa => new ECDsaSecurityKey(ecdsa) { KeyId = kid },
            _ => throw new NotSupportedException(),
        };
        return new SigningCredentials(key, Algorithm);
    }

    /// <summary>The SubjectPublicKeyInfo PEM, as an attacker would download it.</summary>
    public string PublicKeyPem => _algorithm.ExportSubjectPublicKeyInfoPem();

    public static string JwksJson(params TestKey[] keys)
        => JsonSerializer.Serialize(new { keys = keys.Select(k => k.PublicJwk).ToArray() });

    public void Dispose() => _algorithm.Dispose();
}
