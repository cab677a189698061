using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace ZtGateway.IntegrationTests.Infrastructure;

/// <summary>A test identity provider: real RSA keys, a JWKS file the gateway trusts, real signed tokens.</summary>
public sealed class TestIdentity : IDisposable
{
    public const string Issuer = "https://idp.test";
    public const string Audience = "ztgw";

    private readonly RSA _rsa = RSA.Create(2048);
    private readonly RSA _otherRsa = RSA.Create(2048);

    public TestIdentity()
    {
        Key = new RsaSecurityKey(_rsa) { KeyId = "test-key-1" };
        OtherKey = new RsaSecurityKey(_otherRsa) { KeyId = "other-key" };
    }

    public RsaSecurityKey Key { get; }

    /// <summary>A key the gateway has never heard of.</summary>
    public RsaSecurityKey OtherKey { get; }

    public void WriteJwks(string path)
    {
        var jwk = JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(_rsa.ExportParameters(false)) { KeyId = Key.KeyId });
        var json = JsonSerializer.Serialize(new
        {
            keys = new[] { new { kty = "RSA", kid = Key.KeyId, use = "sig", alg = "RS256", n = jwk.N, e = jwk.E } },
        });
        File.WriteAllText(path, json);
    }

    public byte[] PublicKeyBytes => _rsa.ExportSubjectPublicKeyInfo();

    public string User(DateTimeOffset now, string sub, string[]? groups = null, string[]? amr = null, TimeSpan? authAge = null,
        string[]? roles = null, string? acr = null, TimeSpan? lifetime = null, string? audience = null, string? issuer = null,
        SecurityKey? key = null, DateTimeOffset? notBefore = null)
    {
        var claims = new Dictionary<string, object>
        {
            ["sub"] = sub,
            ["auth_time"] = (now - (authAge ?? TimeSpan.FromMinutes(5))).ToUnixTimeSeconds(),
        };
        if (groups is not null)
        {
            claims["groups"] = groups;
        }

        if (roles is not null)
        {
            claims["roles"] = roles;
        }

        claims["amr"] = amr ?? ["pwd", "mfa"];
        if (acr is not null)
        {
            claims["acr"] = acr;
        }

        return Sign(now, claims, lifetime, audience, issuer, key, notBefore);
    }

    public string Workload(DateTimeOffset now, string id, TimeSpan? lifetime = null) =>
        Sign(now, new Dictionary<string, object> { ["sub"] = id }, lifetime, null, null, null, null);

    public string Sign(DateTimeOffset now, Dictionary<string, object> claims, TimeSpan? lifetime = null, string? audience = null,
        string? issuer = null, SecurityKey? key = null, DateTimeOffset? notBefore = null)
    {
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = issuer ?? Issuer,
            Audience = audience ?? Audience,
            IssuedAt = (notBefore ?? now).UtcDateTime,
            NotBefore = (notBefore ?? now).UtcDateTime,
            Expires = ((notBefore ?? now) + (lifetime ?? TimeSpan.FromHours(1))).UtcDateTime,
            Claims = claims,
            SigningCredentials = new SigningCredentials(key ?? Key, SecurityAlgorithms.RsaSha256),
        };
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(descriptor);
    }

    /// <summary>An unsigned token (<c>alg: none</c>) with otherwise perfect claims.</summary>
    public static string Unsigned(DateTimeOffset now, string sub)
    {
        var header = Base64UrlEncoder.Encode("{\"alg\":\"none\",\"typ\":\"JWT\"}");
        var payload = Base64UrlEncoder.Encode(JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["iss"] = Issuer, ["aud"] = Audience, ["sub"] = sub, ["amr"] = new[] { "mfa" },
            ["iat"] = now.ToUnixTimeSeconds(), ["exp"] = now.AddHours(1).ToUnixTimeSeconds(),
        }));
        return header + "." + payload + ".";
    }

    /// <summary>HS256 signed with the public key bytes as the secret: the classic algorithm-confusion attack.</summary>
    public string SymmetricWithPublicKey(DateTimeOffset now, string sub)
    {
        var header = Base64UrlEncoder.Encode("{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"" + Key.KeyId + "\"}");
        var payload = Base64UrlEncoder.Encode(JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["iss"] = Issuer, ["aud"] = Audience, ["sub"] = sub, ["amr"] = new[] { "mfa" },
            ["iat"] = now.ToUnixTimeSeconds(), ["exp"] = now.AddHours(1).ToUnixTimeSeconds(),
        }));
        using var hmac = new HMACSHA256(PublicKeyBytes);
        var signature = hmac.ComputeHash(Encoding.ASCII.GetBytes(header + "." + payload));
        return header + "." + payload + "." + Base64UrlEncoder.Encode(signature);
    }

    public void Dispose()
    {
        _rsa.Dispose();
        _otherRsa.Dispose();
    }
}
