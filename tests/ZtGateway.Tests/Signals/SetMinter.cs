using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace ZtGateway.Tests.Signals;

/// <summary>A transmitter key written as a JWKS file, and SETs signed with it (or with keys nobody trusts).</summary>
internal sealed class SetMinter : IDisposable
{
    public const string Issuer = "https://edr.test";
    public const string Audience = "ztgw";
    public const string Prefix = "https://schemas.openid.net/secevent/caep/event-type/";

    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly ECDsa _forger = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly RSA _rsa = RSA.Create(2048);

    public SetMinter()
    {
        Directory = Path.Combine(Path.GetTempPath(), "ztgw-set-" + Guid.NewGuid().ToString("N")[..12]);
        System.IO.Directory.CreateDirectory(Directory);
        var p = _key.ExportParameters(false);
        JwksFile = Path.Combine(Directory, "signals.jwks.json");
        File.WriteAllText(JwksFile, JsonSerializer.Serialize(new
        {
            keys = new[] { new { kty = "EC", crv = "P-256", kid = "k1", use = "sig", alg = "ES256", x = Base64UrlEncoder.Encode(p.Q.X), y = Base64UrlEncoder.Encode(p.Q.Y) } },
        }));
    }

    public string Directory { get; }

    public string JwksFile { get; }

    public SecurityKey Key => new ECDsaSecurityKey(_key) { KeyId = "k1" };

    public SecurityKey ForgedKey => new ECDsaSecurityKey(_forger) { KeyId = "k1" };

    public SecurityKey UnknownRsaKey => new RsaSecurityKey(_rsa) { KeyId = "k2" };

    public string Mint(DateTimeOffset iat, Dictionary<string, object>? events = null, Dictionary<string, object>? extra = null, SecurityKey? key = null,
        string algorithm = SecurityAlgorithms.EcdsaSha256, string? issuer = Issuer, string? audience = Audience, string? typ = "secevent+jwt",
        string? jti = "jti-1", DateTimeOffset? exp = null)
    {
        var claims = new Dictionary<string, object>
        {
            ["events"] = events ?? new Dictionary<string, object>
            {
                [Prefix + "session-revoked"] = new Dictionary<string, object>
                {
                    ["subject"] = new Dictionary<string, object> { ["format"] = "iss_sub", ["iss"] = "https://idp.test", ["sub"] = "alice" },
                },
            },
        };
        if (jti is not null)
        {
            claims["jti"] = jti;
        }

        foreach (var (name, value) in extra ?? [])
        {
            claims[name] = value;
        }

        var descriptor = new SecurityTokenDescriptor
        {
            TokenType = typ,
            Issuer = issuer,
            Audience = audience,
            IssuedAt = iat.UtcDateTime,
            Expires = exp?.UtcDateTime,
            Claims = claims,
            SigningCredentials = new SigningCredentials(key ?? Key, algorithm),
        };
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(descriptor);
    }

    /// <summary>A token with a hand-written header and payload and no signature.</summary>
    public static string Unsigned(object payload, string header = "{\"alg\":\"none\",\"typ\":\"secevent+jwt\"}") =>
        Base64UrlEncoder.Encode(header) + "." + Base64UrlEncoder.Encode(JsonSerializer.Serialize(payload)) + ".";

    public void Dispose()
    {
        _key.Dispose();
        _forger.Dispose();
        _rsa.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
