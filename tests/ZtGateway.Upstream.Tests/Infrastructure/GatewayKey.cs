using System.Security.Cryptography;
using Microsoft.IdentityModel.Tokens;

namespace ZtGateway.Upstream.Tests.Infrastructure;

/// <summary>An ES256 signing key as the gateway holds it, with its public JWK.</summary>
public sealed class GatewayKey : IDisposable
{
    private readonly ECDsa _ecdsa;

    public GatewayKey(string keyId)
    {
        KeyId = keyId;
        _ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        SigningKey = new ECDsaSecurityKey(_ecdsa) { KeyId = keyId };
        var publicParameters = _ecdsa.ExportParameters(includePrivateParameters: false);
        PublicJwk = new Dictionary<string, string>
        {
            ["kty"] = "EC",
            ["crv"] = "P-256",
            ["x"] = Base64UrlEncoder.Encode(publicParameters.Q.X),
            ["y"] = Base64UrlEncoder.Encode(publicParameters.Q.Y),
            ["kid"] = keyId,
            ["use"] = "sig",
            ["alg"] = "ES256",
        };
    }

    public string KeyId { get; }

    public ECDsaSecurityKey SigningKey { get; }

    public IReadOnlyDictionary<string, string> PublicJwk { get; }

    /// <summary>A verification-only key, as an upstream configured with static keys would hold it.</summary>
    public SecurityKey PublicSecurityKey()
    {
        var verifier = ECDsa.Create(_ecdsa.ExportParameters(includePrivateParameters: false));
        return new ECDsaSecurityKey(verifier) { KeyId = KeyId };
    }

    public void Dispose() => _ecdsa.Dispose();
}
