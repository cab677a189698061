using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Engine;

namespace ZtGateway.Assertion;

/// <summary>
/// Signs the identity handed to upstreams (DESIGN.md section 3): an ES256 JWT per forwarded request,
/// audience = the service, with the decision that let it through. The key is EC P-256 from
/// <c>assertion.signingKeyFile</c>, created with mode 0600 at first start when absent.
/// </summary>
internal sealed partial class AssertionIssuer : IDisposable
{
    private readonly ECDsa _key;
    private readonly SigningCredentials _credentials;
    private readonly JsonWebTokenHandler _handler = new() { SetDefaultTimesOnTokenCreation = false };
    private readonly TimeProvider _time;

    private AssertionIssuer(AssertionSettings settings, ECDsa key, TimeProvider time)
    {
        Settings = settings;
        _key = key;
        _time = time;
        // Own provider cache: the shared one is keyed by kid, and would hand a later issuer with the same key
        // file (a gateway restarted in the same process) a signer around this instance's disposed key.
        var securityKey = new ECDsaSecurityKey(key) { KeyId = Thumbprint(key), CryptoProviderFactory = new CryptoProviderFactory() };
        _credentials = new SigningCredentials(securityKey, SecurityAlgorithms.EcdsaSha256);
        JwksJson = BuildJwks(key, securityKey.KeyId);
    }

    public AssertionSettings Settings { get; }

    /// <summary>The public key set served at <c>/.well-known/ztgw/jwks.json</c>.</summary>
    public string JwksJson { get; }

    public static AssertionIssuer LoadOrCreate(AssertionSettings settings, TimeProvider time, ILogger logger)
    {
        var path = settings.SigningKeyFile;
        var key = ECDsa.Create();
        if (File.Exists(path))
        {
            key.ImportFromPem(File.ReadAllText(path));
            if (key.KeySize != 256)
            {
                key.Dispose();
                throw new InvalidOperationException($"{path}: the assertion signing key must be EC P-256");
            }
        }
        else
        {
            key.GenerateKey(ECCurve.NamedCurves.nistP256);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            using (var file = new FileStream(path, options))
            using (var writer = new StreamWriter(file))
            {
                writer.Write(key.ExportPkcs8PrivateKeyPem());
            }

            Log.KeyCreated(logger, path);
        }

        return new AssertionIssuer(settings, key, time);
    }

    /// <summary>Signs the assertion for one allowed request.</summary>
    public string Issue(Decision decision, Principal principal, DevicePosture? device, string decisionId)
    {
        var now = _time.GetUtcNow();
        var claims = new Dictionary<string, object>(12, StringComparer.Ordinal)
        {
            ["sub"] = principal.Kind == PrincipalKind.Workload ? principal.WorkloadId ?? principal.Subject : principal.Subject,
            ["principal_type"] = principal.Kind == PrincipalKind.Workload ? "workload" : "user",
            ["src_segment"] = decision.SourceSegment,
            ["dst_segment"] = decision.DestinationSegment,
            ["route"] = decision.RouteId ?? string.Empty,
            ["rule"] = decision.RuleName ?? string.Empty,
            ["decision_id"] = decisionId,
            ["jti"] = Guid.NewGuid().ToString("N"),
        };
        if (device is not null)
        {
            claims["device_id"] = device.DeviceId;
        }

        if (principal.Amr.Count > 0)
        {
            claims["amr"] = principal.Amr;
        }

        return _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Settings.Issuer,
            Audience = decision.Service,
            IssuedAt = now.UtcDateTime,
            Expires = (now + Settings.Lifetime).UtcDateTime,
            Claims = claims,
            SigningCredentials = _credentials,
        });
    }

    private static string Thumbprint(ECDsa key)
    {
        // RFC 7638: SHA-256 over the required members in lexicographic order.
        var p = key.ExportParameters(false);
        var canonical = "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"" + Base64UrlEncoder.Encode(p.Q.X) + "\",\"y\":\"" + Base64UrlEncoder.Encode(p.Q.Y) + "\"}";
        return Base64UrlEncoder.Encode(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(canonical)));
    }

    private static string BuildJwks(ECDsa key, string kid)
    {
        var p = key.ExportParameters(false);
        return JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["keys"] = new[]
            {
                new Dictionary<string, string>
                {
                    ["kty"] = "EC", ["crv"] = "P-256", ["use"] = "sig", ["alg"] = "ES256", ["kid"] = kid,
                    ["x"] = Base64UrlEncoder.Encode(p.Q.X), ["y"] = Base64UrlEncoder.Encode(p.Q.Y),
                },
            },
        });
    }

    public void Dispose() => _key.Dispose();

    private static partial class Log
    {
        [LoggerMessage(EventId = 400, Level = LogLevel.Warning, Message = "Created assertion signing key {Path} (mode 0600); upstreams fetch its public half from /.well-known/ztgw/jwks.json")]
        public static partial void KeyCreated(ILogger logger, string path);
    }
}
