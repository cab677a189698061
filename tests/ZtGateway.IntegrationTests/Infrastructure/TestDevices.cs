using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace ZtGateway.IntegrationTests.Infrastructure;

/// <summary>A test EDR/MDM bridge: a real EC key the gateway trusts, and signed posture assertions.</summary>
public sealed class TestDevices : IDisposable
{
    public const string Issuer = "https://posture.test";
    public const string Audience = "ztgw";

    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly ECDsa _selfMade = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public ECDsaSecurityKey Key => new(_key) { KeyId = "posture-1" };

    /// <summary>A key nobody trusts, with the trusted key's id: what a compromised workstation can make.</summary>
    public ECDsaSecurityKey SelfMadeKey => new(_selfMade) { KeyId = "posture-1" };

    public void WriteJwks(string path)
    {
        var p = _key.ExportParameters(false);
        File.WriteAllText(path, JsonSerializer.Serialize(new
        {
            keys = new[]
            {
                new { kty = "EC", crv = "P-256", kid = "posture-1", use = "sig", alg = "ES256", x = Base64UrlEncoder.Encode(p.Q.X), y = Base64UrlEncoder.Encode(p.Q.Y) },
            },
        }));
    }

    public string Posture(DateTimeOffset now, string device, string segment, bool compliant = true, bool managed = true, string risk = "low",
        string? user = null, TimeSpan? lifetime = null, string? audience = null, SecurityKey? key = null, DateTimeOffset? issuedAt = null)
    {
        var iat = issuedAt ?? now;
        var claims = new Dictionary<string, object>
        {
            ["sub"] = device,
            ["segment"] = segment,
            ["compliant"] = compliant,
            ["managed"] = managed,
            ["risk"] = risk,
        };
        if (user is not null)
        {
            claims["user"] = user;
        }

        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = audience ?? Audience,
            IssuedAt = iat.UtcDateTime,
            Expires = (iat + (lifetime ?? TimeSpan.FromMinutes(10))).UtcDateTime,
            Claims = claims,
            SigningCredentials = new SigningCredentials(key ?? Key, SecurityAlgorithms.EcdsaSha256),
        });
    }

    public void Dispose()
    {
        _key.Dispose();
        _selfMade.Dispose();
    }
}
