using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace ZtGateway.Tests.Identity;

/// <summary>Builds real signed tokens (and deliberately broken ones) with exactly the claims a test names.</summary>
internal static class TestTokens
{
    public static Dictionary<string, object?> Claims(string issuer, string audience, DateTimeOffset now, string? subject = "alice", TimeSpan? lifetime = null)
    {
        var claims = new Dictionary<string, object?>
        {
            ["iss"] = issuer,
            ["aud"] = audience,
            ["iat"] = now.ToUnixTimeSeconds(),
            ["nbf"] = now.ToUnixTimeSeconds(),
            ["exp"] = (now + (lifetime ?? TimeSpan.FromHours(1))).ToUnixTimeSeconds(),
        };
        if (subject is not null)
        {
            claims["sub"] = subject;
        }

        return claims;
    }

    public static string Sign(IDictionary<string, object?> claims, SigningCredentials credentials)
    {
        var payload = JsonSerializer.Serialize(claims.Where(c => c.Value is not null).ToDictionary(c => c.Key, c => c.Value));
        return new JsonWebTokenHandler().CreateToken(payload, credentials);
    }

    /// <summary>A token with <c>alg: none</c> and an empty signature, built by hand.</summary>
    public static string Unsigned(IDictionary<string, object?> claims, string? kid = null)
    {
        var header = kid is null ? (object)new { alg = "none", typ = "JWT" } : new { alg = "none", typ = "JWT", kid };
        return Encode(header) + "." + Encode(claims) + ".";
    }

    /// <summary>An HS256 token keyed with <paramref name="secret"/> (e.g. a published public key).</summary>
    public static string Hs256(IDictionary<string, object?> claims, byte[] secret, string kid)
    {
        var signingInput = Encode(new { alg = "HS256", typ = "JWT", kid }) + "." + Encode(claims);
        var signature = HMACSHA256.HashData(secret, Encoding.ASCII.GetBytes(signingInput));
        return signingInput + "." + Base64UrlEncoder.Encode(signature);
    }

    public static string Bearer(string token) => "Bearer " + token;

    private static string Encode(object value) => Base64UrlEncoder.Encode(JsonSerializer.SerializeToUtf8Bytes(value));
}
