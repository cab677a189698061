using System.Text;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace ZtGateway.Upstream.Tests.Infrastructure;

/// <summary>Mints assertions the way the gateway does, and variants of them that must be refused.</summary>
public static class AssertionMinter
{
    public const string Issuer = "https://ztgw.example";
    public const string Service = "payroll";

    private static readonly JsonWebTokenHandler Handler = new() { SetDefaultTimesOnTokenCreation = false };

    /// <summary>The claims a gateway puts in an assertion for a user of hr reaching payroll.</summary>
    public static Dictionary<string, object> Claims(DateTimeOffset issuedAt, TimeSpan? lifetime = null) => new()
    {
        ["iss"] = Issuer,
        ["aud"] = Service,
        ["sub"] = "alice@corp.example",
        ["principal_type"] = "user",
        ["src_segment"] = "hr",
        ["dst_segment"] = "hr",
        ["route"] = "payroll-read",
        ["rule"] = "hr-staff",
        ["device_id"] = "dev-42",
        ["amr"] = new[] { "pwd", "mfa" },
        ["decision_id"] = "d-7f3a",
        ["jti"] = Guid.NewGuid().ToString("N"),
        ["iat"] = issuedAt.ToUnixTimeSeconds(),
        ["exp"] = (issuedAt + (lifetime ?? TimeSpan.FromSeconds(60))).ToUnixTimeSeconds(),
    };

    public static string Mint(GatewayKey key, DateTimeOffset issuedAt, Action<Dictionary<string, object>>? edit = null)
    {
        var claims = Claims(issuedAt);
        edit?.Invoke(claims);
        return Sign(claims, new SigningCredentials(key.SigningKey, SecurityAlgorithms.EcdsaSha256));
    }

    public static string Sign(Dictionary<string, object> claims, SigningCredentials credentials) =>
        Handler.CreateToken(new SecurityTokenDescriptor { Claims = claims, SigningCredentials = credentials });

    public static string MintHs256(DateTimeOffset issuedAt, string keyId)
    {
        var secret = new SymmetricSecurityKey(Encoding.UTF8.GetBytes("a-shared-secret-that-is-long-enough-for-hs256")) { KeyId = keyId };
        return Sign(Claims(issuedAt), new SigningCredentials(secret, SecurityAlgorithms.HmacSha256));
    }

    /// <summary>An unsigned token (<c>alg: none</c>) with otherwise perfect claims.</summary>
    public static string MintUnsigned(DateTimeOffset issuedAt, string keyId)
    {
        var header = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string> { ["alg"] = "none", ["typ"] = "JWT", ["kid"] = keyId });
        var payload = JsonSerializer.SerializeToUtf8Bytes(Claims(issuedAt));
        return Base64UrlEncoder.Encode(header) + "." + Base64UrlEncoder.Encode(payload) + ".";
    }
}
