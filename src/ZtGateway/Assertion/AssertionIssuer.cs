using System.Buffers;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
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
    private readonly byte[] _encodedHeader;
    private readonly TimeProvider _time;

    private AssertionIssuer(AssertionSettings settings, ECDsa key, TimeProvider time)
    {
        Settings = settings;
        _key = key;
        _time = time;
        var kid = Thumbprint(key);
        _encodedHeader = Encoding.ASCII.GetBytes(Base64UrlEncoder.Encode(
            JsonSerializer.Serialize(new Dictionary<string, string> { ["alg"] = "ES256", ["kid"] = kid, ["typ"] = "JWT" })));
        JwksJson = BuildJwks(key, kid);
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

    /// <summary>Signs the assertion for one allowed request (compact JWS, ES256).</summary>
    public string Issue(Decision decision, Principal principal, DevicePosture? device, string decisionId)
    {
        // Written directly rather than through a token handler: this runs on every forwarded request, and the
        // header never changes, so only the claims are serialized and one ECDSA signature is made.
        var now = _time.GetUtcNow().ToUnixTimeSeconds();
        var payload = new ArrayBufferWriter<byte>(512);
        using (var json = new Utf8JsonWriter(payload))
        {
            json.WriteStartObject();
            json.WriteString("iss", Settings.Issuer);
            json.WriteString("aud", decision.Service);
            json.WriteString("sub", principal.Kind == PrincipalKind.Workload ? principal.WorkloadId ?? principal.Subject : principal.Subject);
            json.WriteString("principal_type", principal.Kind == PrincipalKind.Workload ? "workload" : "user");
            json.WriteString("src_segment", decision.SourceSegment);
            json.WriteString("dst_segment", decision.DestinationSegment);
            json.WriteString("route", decision.RouteId);
            json.WriteString("rule", decision.RuleName);
            if (device is not null)
            {
                json.WriteString("device_id", device.DeviceId);
            }

            if (principal.Amr.Count > 0)
            {
                json.WriteStartArray("amr");
                foreach (var method in principal.Amr)
                {
                    json.WriteStringValue(method);
                }

                json.WriteEndArray();
            }

            json.WriteString("decision_id", decisionId);
            json.WriteString("jti", Guid.NewGuid().ToString("N"));
            json.WriteNumber("iat", now);
            json.WriteNumber("exp", now + (long)Settings.Lifetime.TotalSeconds);
            json.WriteEndObject();
        }

        var payloadLength = Base64Url.GetEncodedLength(payload.WrittenCount);
        var signingInput = new byte[_encodedHeader.Length + 1 + payloadLength];
        _encodedHeader.CopyTo(signingInput, 0);
        signingInput[_encodedHeader.Length] = (byte)'.';
        Base64Url.EncodeToUtf8(payload.WrittenSpan, signingInput.AsSpan(_encodedHeader.Length + 1));

        Span<byte> signature = stackalloc byte[64];
        if (!_key.TrySignData(signingInput, signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation, out var written) || written != 64)
        {
            throw new CryptographicException("ES256 signing produced no signature");
        }

        return string.Create(signingInput.Length + 1 + Base64Url.GetEncodedLength(64), (signingInput, signature.ToArray()), static (chars, state) =>
        {
            var (input, sig) = state;
            for (var i = 0; i < input.Length; i++)
            {
                chars[i] = (char)input[i];
            }

            chars[input.Length] = '.';
            Base64Url.EncodeToChars(sig, chars[(input.Length + 1)..]);
        });
    }

    private static string Thumbprint(ECDsa key)
    {
        // RFC 7638: SHA-256 over the required members in lexicographic order.
        var p = key.ExportParameters(false);
        var canonical = "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"" + Base64UrlEncoder.Encode(p.Q.X) + "\",\"y\":\"" + Base64UrlEncoder.Encode(p.Q.Y) + "\"}";
        return Base64UrlEncoder.Encode(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));
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
