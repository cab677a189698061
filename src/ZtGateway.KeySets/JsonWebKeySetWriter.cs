using System.Text.Json;
using Microsoft.IdentityModel.Tokens;

namespace ZtGateway.KeySets;

/// <summary>
/// Writes public key sets: the public JWK of a signing key with <c>kid</c> = its RFC 7638 thumbprint, and the JSON
/// Web Key Set document that holds such keys. The one writer of the gateway's published set and of the
/// development key files.
/// </summary>
public static class JsonWebKeySetWriter
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>The RFC 7638 thumbprint (SHA-256, base64url) of <paramref name="key"/>'s public key.</summary>
    /// <param name="key">An RSA or EC key, with or without its private part.</param>
    /// <exception cref="NotSupportedException">The key is neither RSA nor EC.</exception>
    public static string Thumbprint(SecurityKey key) => Base64UrlEncoder.Encode(ToJsonWebKey(key).ComputeJwkThumbprint());

    /// <summary>
    /// The public JWK of <paramref name="key"/>: the members RFC 7638 requires, in its order (<c>e</c>, <c>kty</c>,
    /// <c>n</c> for RSA; <c>crv</c>, <c>kty</c>, <c>x</c>, <c>y</c> for EC), then <c>kid</c> (the thumbprint),
    /// <c>alg</c> and <c>use</c> = <c>sig</c>. Never a private member.
    /// </summary>
    /// <param name="key">An RSA or EC key, with or without its private part.</param>
    /// <param name="algorithm">The <c>alg</c> the key signs with, for example <c>ES256</c>.</param>
    /// <exception cref="NotSupportedException">The key is neither RSA nor EC.</exception>
    public static Dictionary<string, string> PublicJwk(SecurityKey key, string algorithm)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(algorithm);
        var jwk = ToJsonWebKey(key);
        var members = jwk.Kty == JsonWebAlgorithmsKeyTypes.RSA
            ? new Dictionary<string, string>(StringComparer.Ordinal) { ["e"] = jwk.E, ["kty"] = jwk.Kty, ["n"] = jwk.N }
            : new Dictionary<string, string>(StringComparer.Ordinal) { ["crv"] = jwk.Crv, ["kty"] = jwk.Kty, ["x"] = jwk.X, ["y"] = jwk.Y };
        members["kid"] = Base64UrlEncoder.Encode(jwk.ComputeJwkThumbprint());
        members["alg"] = algorithm;
        members["use"] = JsonWebKeyUseNames.Sig;
        return members;
    }

    /// <summary>The JSON Web Key Set document <c>{"keys":[...]}</c> of <paramref name="keys"/>.</summary>
    /// <param name="keys">Public JWKs, as <see cref="PublicJwk"/> makes them.</param>
    /// <param name="indented">Indent the document, as a file meant to be read is.</param>
    public static string Write(IEnumerable<IReadOnlyDictionary<string, string>> keys, bool indented = false)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var document = new Dictionary<string, object> { ["keys"] = keys.ToArray() };
        return indented ? JsonSerializer.Serialize(document, Indented) : JsonSerializer.Serialize(document);
    }

    // IdentityModel's conversion; a key it cannot give the public members of is refused.
    private static JsonWebKey ToJsonWebKey(SecurityKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var jwk = JsonWebKeyConverter.ConvertFromSecurityKey(key);
        var complete = jwk.Kty switch
        {
            JsonWebAlgorithmsKeyTypes.RSA => !string.IsNullOrEmpty(jwk.E) && !string.IsNullOrEmpty(jwk.N),
            JsonWebAlgorithmsKeyTypes.EllipticCurve => !string.IsNullOrEmpty(jwk.Crv) && !string.IsNullOrEmpty(jwk.X) && !string.IsNullOrEmpty(jwk.Y),
            _ => false,
        };
        return complete ? jwk : throw new NotSupportedException($"a {key.GetType().Name} has no RSA or EC public JWK.");
    }
}
