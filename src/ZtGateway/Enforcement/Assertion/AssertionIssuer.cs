using System.Buffers;
using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.IdentityModel.Tokens;
using ZtGateway.KeySets;
using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Engine;

namespace ZtGateway.Enforcement.Assertion;

/// <summary>
/// Signs the identity handed to upstreams (docs/design.md section 3): an ES256 JWT per forwarded request,
/// audience = the service, with the decision that let it through. The key is EC P-256 from
/// <c>assertion.signingKeyFile</c>, which must exist (a start never creates it; <c>ztgw dev keys</c> writes a development one).
/// </summary>
/// <remarks>
/// A signed assertion is reused for the same validated token, the same verified device assertion and the same
/// decision (service, route, rule, segments) for a short part of its lifetime (<see cref="ReuseWindow"/>):
/// the key is the identity of those immutable objects, so a reused assertion says exactly what a new one would,
/// except that its <c>decision_id</c>, <c>jti</c> and <c>iat</c> are those of the request that minted it. A
/// denied request never reaches the issuer, so revocation and quarantine stop reuse at once.
/// </remarks>
internal sealed class AssertionIssuer : IDisposable
{
    /// <summary>At most this many reusable assertions are held; past it the expired ones go, or else all of them.</summary>
    internal const int MaxReusable = 16_384;

    /// <summary>Every this many signatures, assertions past their reuse window are dropped.</summary>
    internal const int SweepEvery = 1_024;

    private static readonly TimeSpan MaxReuse = TimeSpan.FromSeconds(5);

    private readonly ECDsa _key;
    private readonly byte[] _encodedHeader;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<MintKey, Minted> _minted = new();
    private int _signedSinceSweep;

    private AssertionIssuer(AssertionSettings settings, ECDsa key, TimeProvider time)
    {
        Settings = settings;
        _key = key;
        _time = time;
        var publicJwk = JsonWebKeySetWriter.PublicJwk(new ECDsaSecurityKey(key), SecurityAlgorithms.EcdsaSha256);
        _encodedHeader = Encoding.ASCII.GetBytes(Base64UrlEncoder.Encode(
            JsonSerializer.Serialize(new Dictionary<string, string> { ["alg"] = "ES256", ["kid"] = publicJwk["kid"], ["typ"] = "JWT" })));
        JwksJson = JsonWebKeySetWriter.Write([publicJwk]);
        var tenth = settings.Lifetime / 10;
        ReuseWindow = tenth < MaxReuse ? tenth : MaxReuse;
    }

    public AssertionSettings Settings { get; }

    /// <summary>How long a signed assertion is reused: a tenth of its lifetime, at most five seconds.</summary>
    public TimeSpan ReuseWindow { get; }

    /// <summary>How many assertions are currently held for reuse.</summary>
    internal int ReusableCount => _minted.Count;

    /// <summary>The public key set served at <c>/.well-known/ztgw/jwks.json</c>.</summary>
    public string JwksJson { get; }

    /// <summary>Reads the EC P-256 signing key at <see cref="AssertionSettings.SigningKeyFile"/>; never creates one.</summary>
    /// <exception cref="IOException">The file is missing or cannot be read.</exception>
    /// <exception cref="InvalidOperationException">The file holds no EC P-256 private key.</exception>
    public static AssertionIssuer Load(AssertionSettings settings, TimeProvider time)
    {
        var path = settings.SigningKeyFile;
        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(File.ReadAllText(path));
        }
        catch (Exception ex) when (ex is ArgumentException or CryptographicException)
        {
            key.Dispose();
            throw new InvalidOperationException($"{path}: no EC private key in PEM form ({ex.Message})", ex);
        }
        catch
        {
            key.Dispose();
            throw;
        }

        if (key.KeySize != 256)
        {
            key.Dispose();
            throw new InvalidOperationException($"{path}: the assertion signing key must be EC P-256");
        }

        return new AssertionIssuer(settings, key, time);
    }

    /// <summary>
    /// The assertion for one allowed request (compact JWS, ES256): the one minted for the same token, device
    /// assertion and decision within <see cref="ReuseWindow"/>, otherwise a new one.
    /// </summary>
    public string Issue(Decision decision, Principal principal, DevicePosture? device, string decisionId)
    {
        var nowMs = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var key = new MintKey(principal, device, decision);
        if (_minted.TryGetValue(key, out var minted) && nowMs >= minted.MintedMs && nowMs < minted.ReuseUntilMs)
        {
            return minted.Value;
        }

        var value = Sign(decision, principal, device, decisionId, nowMs / 1000);
        if (ReuseWindow > TimeSpan.Zero)
        {
            if (Interlocked.Increment(ref _signedSinceSweep) >= SweepEvery || _minted.Count >= MaxReusable)
            {
                Sweep(nowMs);
            }

            _minted[key] = new Minted(value, nowMs, nowMs + (long)ReuseWindow.TotalMilliseconds);
        }

        return value;
    }

    // Drops assertions past their reuse window (and with them the principals they name), so that a gateway
    // that goes quiet does not hold them; if all are still live and the set is full, it is emptied.
    private void Sweep(long nowMs)
    {
        Interlocked.Exchange(ref _signedSinceSweep, 0);
        foreach (var entry in _minted)
        {
            if (nowMs >= entry.Value.ReuseUntilMs || nowMs < entry.Value.MintedMs)
            {
                _minted.TryRemove(entry);
            }
        }

        if (_minted.Count >= MaxReusable)
        {
            _minted.Clear();
        }
    }

    private string Sign(Decision decision, Principal principal, DevicePosture? device, string decisionId, long now)
    {
        // Written directly rather than through a token handler: the header never changes, so only the claims are
        // serialized and one ECDSA signature is made.
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

    public void Dispose() => _key.Dispose();

    private sealed record Minted(string Value, long MintedMs, long ReuseUntilMs);

    /// <summary>Identity, not value, of the immutable inputs: the same cached token, device assertion and decision.</summary>
    private readonly struct MintKey(Principal principal, DevicePosture? device, Decision decision) : IEquatable<MintKey>
    {
        private readonly Principal _principal = principal;
        private readonly DevicePosture? _device = device;
        private readonly Decision _decision = decision;

        public bool Equals(MintKey other) =>
            ReferenceEquals(_principal, other._principal) && ReferenceEquals(_device, other._device) && ReferenceEquals(_decision, other._decision);

        public override bool Equals(object? obj) => obj is MintKey other && Equals(other);

        public override int GetHashCode() =>
            HashCode.Combine(RuntimeHelpers.GetHashCode(_principal), _device is null ? 0 : RuntimeHelpers.GetHashCode(_device), RuntimeHelpers.GetHashCode(_decision));
    }
}
