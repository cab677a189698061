using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using ZtGateway.Fuzz.Targets;

namespace ZtGateway.Fuzz;

/// <summary>
/// Writes the seed inputs of the credential and path targets (<c>ZtGateway.Fuzz --write-seeds fuzz/seeds</c>): tokens
/// shaped as the gateway expects them, signed with throw-away keys under the trusted key ids, so that a run starts
/// at the signature check; the same claims in the JSON form of <see cref="FuzzInput.CompactToken"/>; and the refusals
/// a parser meets first. The policy seeds are the sample files of <c>config/</c> and the fixed files of the loader target.
/// </summary>
internal static class SeedWriter
{
    private const string Caep = "https://schemas.openid.net/secevent/caep/event-type/";

    public static void Write(string root)
    {
        using var rsa = RSA.Create(2048);
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var rsaKey = new SigningCredentials(new RsaSecurityKey(rsa) { KeyId = TrustedKeys.RsaKeyId }, SecurityAlgorithms.RsaSha256);
        var ecKey = new SigningCredentials(new ECDsaSecurityKey(ec) { KeyId = TrustedKeys.EcKeyId }, SecurityAlgorithms.EcdsaSha256);
        var hmac = new SigningCredentials(new SymmetricSecurityKey(new byte[32]) { KeyId = TrustedKeys.RsaKeyId }, SecurityAlgorithms.HmacSha256);
        var now = FixedTimeProvider.Epoch.ToUnixTimeSeconds();

        var user = new Dictionary<string, object>
        {
            ["iss"] = BearerTokenTarget.Issuer, ["aud"] = BearerTokenTarget.Audience, ["sub"] = "alice@corp.example",
            ["iat"] = now, ["nbf"] = now, ["exp"] = now + 3600, ["auth_time"] = now - 60, ["groups"] = new[] { "finance-staff" },
            ["roles"] = new[] { "Accountant" }, ["amr"] = new[] { "pwd", "mfa" }, ["acr"] = "phr", ["sid"] = "s-1", ["azp"] = "portal",
        };
        var workload = new Dictionary<string, object>
        {
            ["iss"] = BearerTokenTarget.Issuer, ["aud"] = new[] { BearerTokenTarget.Audience, "other" }, ["sub"] = "spiffe://corp.example/finance/ledger-sync",
            ["iat"] = now, ["exp"] = now + 600, ["idtyp"] = "app", ["client_id"] = "ledger-sync",
        };
        var token = Folder(root, "token");
        Text(token, "rs256-user", "Bearer " + Sign(user, rsaKey, "JWT"));
        Text(token, "es256-workload", "Bearer " + Sign(workload, ecKey, "JWT"));
        Text(token, "hs256", "Bearer " + Sign(user, hmac, "JWT"));
        Text(token, "alg-none", "Bearer " + Unsigned("{\"alg\":\"none\",\"typ\":\"JWT\"}", user));
        Text(token, "jwe-shaped", "Bearer eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.a.b.c.d");
        Text(token, "basic", "Basic YWxpY2U6c2VjcmV0");
        Text(token, "bearer-empty", "Bearer ");
        Json(token, "json-user", """{"alg":"RS256","kid":"fuzz-rsa","typ":"JWT"}""", user);
        Json(token, "json-workload", """{"alg":"ES256","kid":"fuzz-ec"}""", workload);

        var device = new Dictionary<string, object>
        {
            ["iss"] = PostureAssertionTarget.Issuer, ["aud"] = PostureAssertionTarget.Audience, ["sub"] = "device-42", ["iat"] = now,
            ["nbf"] = now, ["exp"] = now + 600, ["segment"] = "finance", ["compliant"] = true, ["managed"] = true, ["risk"] = "low",
            ["user"] = "alice@corp.example",
        };
        var unbound = new Dictionary<string, object>(device) { ["risk"] = "high", ["compliant"] = false };
        unbound.Remove("user");
        var posture = Folder(root, "posture");
        Text(posture, "es256-bound", Sign(device, ecKey, "JWT"));
        Text(posture, "rs256-unbound", Sign(unbound, rsaKey, null));
        Text(posture, "alg-none", Unsigned("{\"alg\":\"none\"}", device));
        Text(posture, "not-a-jwt", "compliant=true; managed=true");
        Json(posture, "json-bound", """{"alg":"ES256","kid":"fuzz-ec","typ":"JWT"}""", device);
        Json(posture, "json-unbound", """{"alg":"RS256","kid":"fuzz-rsa"}""", unbound);

        var user1 = new Dictionary<string, object> { ["format"] = "iss_sub", ["iss"] = BearerTokenTarget.Issuer, ["sub"] = "alice@corp.example" };
        var device1 = new Dictionary<string, object> { ["format"] = "opaque", ["id"] = "device-42" };
        var sets = new Dictionary<string, Dictionary<string, object>>
        {
            ["session-revoked"] = Set(now, "session-revoked", new Dictionary<string, object> { ["subject"] = user1, ["event_timestamp"] = now - 5 }),
            ["credential-change"] = Set(now, "credential-change", new Dictionary<string, object>
            {
                ["subject"] = new Dictionary<string, object> { ["format"] = "complex", ["user"] = user1 },
                ["credential_type"] = "password", ["change_type"] = "update",
            }),
            ["assurance-level-change"] = Set(now, "assurance-level-change", new Dictionary<string, object>
            {
                ["subject"] = user1, ["namespace"] = "RFC8176", ["current_level"] = "pwd", ["change_direction"] = "decrease",
            }),
            ["device-compliance-change"] = Set(now, "device-compliance-change", new Dictionary<string, object>
            {
                ["subject"] = new Dictionary<string, object> { ["format"] = "complex", ["device"] = device1 },
                ["previous_status"] = "compliant", ["current_status"] = "not-compliant",
            }),
            ["sub-id"] = Set(now, "session-revoked", new Dictionary<string, object>(), subId: user1),
            ["unknown-event"] = Set(now, "https://example.com/other-event", new Dictionary<string, object>()),
        };
        var set = Folder(root, "set");
        foreach (var (name, claims) in sets)
        {
            Text(set, name, Sign(claims, ecKey, "secevent+jwt"));
            Json(set, "json-" + name, """{"alg":"ES256","kid":"fuzz-ec","typ":"secevent+jwt"}""", claims);
        }

        Text(set, "rs256-application-type", Sign(sets["session-revoked"], rsaKey, "application/secevent+jwt"));
        Text(set, "alg-none", Unsigned("{\"alg\":\"none\",\"typ\":\"secevent+jwt\"}", sets["session-revoked"]));

        var path = Folder(root, "path");
        string[] targets =
        [
            "/", "/ledger/2026/q1?from=a&to=b", "/ledger/", "/a%20b/c", "/caf%C3%A9/%E2%82%AC", "/caf\u00e9", "/a%2Fb", "/a%2fb", "/a;b",
            "/a;jsessionid=1/b", "/a%3Bb", "/a\\b", "/a%5Cb", "/a%25b", "/a%252Fb", "/a%2", "/a%zz", "/a%00b", "/a%7Fb", "/a%C2%85b",
            "/a%C0%AFb", "/a%ED%A0%80", "/a%F0%9F%98%80", "/a/../b", "/a/./b", "/a//b", "/a/%2e%2e/b", "/a/%2E/b", "*",
            "http://gateway.example/ledger/x?y", "https://gateway.example:8443", "http://h/a%2Fb", "/a?b=%2F;\\", "/a#frag",
            "/a#%2F", "/a#%2F\n/a", "/a\u0085b", "http://h/a%C2%9Fb", "/ledger/x\n/ledger/x", "/a%2Fb\n/a%2Fb", "/a/b\n/a/../b", "/\u00e9\n/\u00e9",
        ];
        for (var i = 0; i < targets.Length; i++)
        {
            Text(path, $"seed-{i:D2}", targets[i]);
        }
    }

    private static Dictionary<string, object> Set(long now, string type, Dictionary<string, object> body, Dictionary<string, object>? subId = null)
    {
        var claims = new Dictionary<string, object>
        {
            ["iss"] = SecurityEventTarget.Issuer, ["aud"] = SecurityEventTarget.Audience, ["iat"] = now, ["jti"] = "jti-" + type,
            ["events"] = new Dictionary<string, object> { [type.Contains("://", StringComparison.Ordinal) ? type : Caep + type] = body },
        };
        if (subId is not null)
        {
            claims["sub_id"] = subId;
        }

        return claims;
    }

    private static string Sign(Dictionary<string, object> claims, SigningCredentials credentials, string? typ) =>
        new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(JsonSerializer.Serialize(claims), credentials,
            typ is null ? new Dictionary<string, object>() : new Dictionary<string, object> { ["typ"] = typ });

    private static string Unsigned(string header, Dictionary<string, object> claims) =>
        Base64UrlEncoder.Encode(header) + "." + Base64UrlEncoder.Encode(JsonSerializer.Serialize(claims)) + ".";

    private static string Folder(string root, string target)
    {
        var folder = Path.Combine(root, target);
        Directory.CreateDirectory(folder);
        return folder;
    }

    private static void Text(string folder, string name, string content) =>
        File.WriteAllText(Path.Combine(folder, name), content, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));

    private static void Json(string folder, string name, string header, Dictionary<string, object> claims) =>
        Text(folder, name, header + "\n" + JsonSerializer.Serialize(claims));
}
