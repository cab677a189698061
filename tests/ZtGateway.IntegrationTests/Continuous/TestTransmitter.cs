using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace ZtGateway.IntegrationTests.Continuous;

/// <summary>A test CAEP transmitter (an IdP or EDR): a real EC key the gateway trusts, and signed SETs.</summary>
public sealed class TestTransmitter : IDisposable
{
    public const string Issuer = "https://signals.test";
    public const string Audience = "ztgw";
    public const string Prefix = "https://schemas.openid.net/secevent/caep/event-type/";

    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly ECDsa _selfMade = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public ECDsaSecurityKey Key => new(_key) { KeyId = "signals-1" };

    /// <summary>A key nobody trusts, under the trusted key's id: a forger's key.</summary>
    public ECDsaSecurityKey ForgedKey => new(_selfMade) { KeyId = "signals-1" };

    public void WriteJwks(string path)
    {
        var p = _key.ExportParameters(false);
        File.WriteAllText(path, JsonSerializer.Serialize(new
        {
            keys = new[]
            {
                new { kty = "EC", crv = "P-256", kid = "signals-1", use = "sig", alg = "ES256", x = Base64UrlEncoder.Encode(p.Q.X), y = Base64UrlEncoder.Encode(p.Q.Y) },
            },
        }));
    }

    public static Dictionary<string, object> User(string sub, string issuer = "https://idp.test") =>
        new() { ["format"] = "iss_sub", ["iss"] = issuer, ["sub"] = sub };

    public static Dictionary<string, object> Device(string id) => new() { ["format"] = "opaque", ["id"] = id };

    /// <summary>A SET with one CAEP event about a user, timestamped <paramref name="now"/>.</summary>
    public string UserEvent(DateTimeOffset now, string eventName, string sub, SecurityKey? key = null, string? issuer = null, string? audience = null,
        string? jti = null) =>
        Set(now, eventName, new Dictionary<string, object> { ["subject"] = User(sub), ["event_timestamp"] = now.ToUnixTimeSeconds() },
            key, issuer, audience, jti);

    /// <summary>A SET with a device-compliance-change to <paramref name="status"/>.</summary>
    public string DeviceEvent(DateTimeOffset now, string device, string status, SecurityKey? key = null, string? jti = null) =>
        Set(now, "device-compliance-change", new Dictionary<string, object>
        {
            ["subject"] = Device(device),
            ["event_timestamp"] = now.ToUnixTimeSeconds(),
            ["current_status"] = status,
        }, key, jti: jti);

    public string Set(DateTimeOffset now, string eventName, Dictionary<string, object> payload, SecurityKey? key = null, string? issuer = null,
        string? audience = null, string? jti = null, string typ = "secevent+jwt", DateTimeOffset? expires = null)
    {
        var claims = new Dictionary<string, object>
        {
            ["jti"] = jti ?? Guid.NewGuid().ToString("N"),
            ["events"] = new Dictionary<string, object> { [Prefix + eventName] = payload },
        };
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            TokenType = typ,
            Issuer = issuer ?? Issuer,
            Audience = audience ?? Audience,
            IssuedAt = now.UtcDateTime,
            Expires = expires?.UtcDateTime,
            Claims = claims,
            SigningCredentials = new SigningCredentials(key ?? Key, SecurityAlgorithms.EcdsaSha256),
        });
    }

    /// <summary>The same event with <c>alg: none</c>.</summary>
    public static string Unsigned(DateTimeOffset now, string eventName, string sub)
    {
        var header = Base64UrlEncoder.Encode("{\"alg\":\"none\",\"typ\":\"secevent+jwt\"}");
        var payload = Base64UrlEncoder.Encode(JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["iss"] = Issuer, ["aud"] = Audience, ["iat"] = now.ToUnixTimeSeconds(), ["jti"] = Guid.NewGuid().ToString("N"),
            ["events"] = new Dictionary<string, object> { [Prefix + eventName] = new Dictionary<string, object> { ["subject"] = User(sub) } },
        }));
        return header + "." + payload + ".";
    }

    public void Dispose()
    {
        _key.Dispose();
        _selfMade.Dispose();
    }
}
