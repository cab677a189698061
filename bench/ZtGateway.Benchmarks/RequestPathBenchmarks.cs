using System.Net;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using ZtGateway.Audit;
using ZtGateway.DevTools;
using ZtGateway.Enforcement.Assertion;
using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Engine;
using ZtGateway.Sources.Device;
using ZtGateway.Sources.Identity;

namespace ZtGateway.Benchmarks;

/// <summary>
/// What the gateway does per request besides the decision: verify the token (cold: full signature check;
/// cached: digest lookup), verify the device assertion (cached), sign the upstream assertion, render the
/// audit line.
/// </summary>
[MemoryDiagnoser]
public class RequestPathBenchmarks
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "ztgw-bench-" + Guid.NewGuid().ToString("N")[..8]);
    private TokenValidator _cold = null!;
    private CachingTokenValidator _cached = null!;
    private readonly RecentCredential _recentToken = new();
    private readonly RecentCredential _recentPosture = new();
    private DevicePostureVerifier _posture = null!;
    private AssertionIssuer _assertions = null!;
    private string _header = null!;
    private string _postureAssertion = null!;
    private Principal _principal = null!;
    private Decision _decision = null!;
    private AuditEvent _audit = null!;

    [GlobalSetup]
    public void Setup()
    {
        Directory.CreateDirectory(_directory);
        var idpJwks = Path.Combine(_directory, "idp.jwks.json");
        var postureJwks = Path.Combine(_directory, "posture.jwks.json");
        DevKeys.CreateRsa(DevKeys.PrivateKeyPathFor(idpJwks), idpJwks, overwrite: true);
        DevKeys.CreateEc(DevKeys.PrivateKeyPathFor(postureJwks), postureJwks, overwrite: true);
        var identity = new IdentitySettings
        {
            Issuers = [new IssuerConfig { Name = "bench", Type = IssuerType.Jwks, Issuer = "https://idp.bench", JwksFile = idpJwks, Audiences = ["ztgw"] }],
        };
        _cold = new TokenValidator(identity, TimeProvider.System);
        _cached = new CachingTokenValidator(new TokenValidator(identity, TimeProvider.System), TimeProvider.System);
        _header = "Bearer " + DevTokens.Mint(new DevTokenRequest
        {
            Subject = "alice", Groups = ["finance-staff"], Issuer = "https://idp.bench", Audience = "ztgw",
        }, DevKeys.LoadSigningCredentials(DevKeys.PrivateKeyPathFor(idpJwks)), TimeProvider.System);

        var device = new DeviceSettings { Issuers = [new KeySourceConfig { Issuer = "https://posture.bench", JwksFile = postureJwks }] };
        _posture = new DevicePostureVerifier(device, TimeSpan.FromMinutes(1), TimeProvider.System, null, NullLogger.Instance);
        _postureAssertion = DevPostures.Mint(new DevPostureRequest
        {
            DeviceId = "laptop-7", Segment = "finance", Compliant = true, Managed = true, User = "alice",
            Issuer = "https://posture.bench", Audience = "ztgw",
        }, DevKeys.LoadSigningCredentials(DevKeys.PrivateKeyPathFor(postureJwks)), TimeProvider.System);

        DevKeys.CreateSigningKey(Path.Combine(_directory, "signing.pem"), overwrite: true);
        _assertions = AssertionIssuer.Load(new AssertionSettings { SigningKeyFile = Path.Combine(_directory, "signing.pem") }, TimeProvider.System);
        _principal = _cold.ValidateAsync(_header, default).AsTask().GetAwaiter().GetResult().Principal
            ?? throw new InvalidOperationException("the benchmark token does not verify");
        _cached.ValidateAsync(_header, default).AsTask().GetAwaiter().GetResult();
        if (_posture.VerifyAsync(_postureAssertion, _principal, default).AsTask().GetAwaiter().GetResult().Status != DeviceStatus.Verified)
        {
            throw new InvalidOperationException("the benchmark posture does not verify");
        }

        _decision = new Decision
        {
            Allowed = true, Reason = ReasonCode.Allowed, DestinationSegment = "hr", SourceSegment = "finance",
            RouteId = "payroll-read", RuleName = "finance-auditors", Service = "payroll",
        };
        _audit = new AuditEvent
        {
            Time = DateTimeOffset.UtcNow, DecisionId = Guid.CreateVersion7().ToString(), TraceId = "0af7651916cd43dd8448eb211c80319c",
            Decision = _decision, Reason = ReasonCode.Allowed, Method = "GET", Path = "/payroll/2026", StatusCode = 200,
            ClientAddress = IPAddress.Loopback, Principal = _principal, PolicyVersion = new string('a', 64),
        };
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _cold.Dispose();
        _cached.Dispose();
        _posture.Dispose();
        _assertions.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark]
    public object TokenCold() => _cold.ValidateAsync(_header, default).AsTask().GetAwaiter().GetResult();

    [Benchmark]
    public object TokenCached() => _cached.ValidateAsync(_header, default).AsTask().GetAwaiter().GetResult();

    /// <summary>The same header string again on one connection: no digest.</summary>
    [Benchmark]
    public object TokenCachedSameConnection() => _cached.ValidateAsync(_header, _recentToken, default).AsTask().GetAwaiter().GetResult();

    /// <summary>An equal assertion string again on one connection (Kestrel copies a custom header each time): compared, not hashed.</summary>
    [Benchmark]
    public object PostureCachedSameConnection() =>
        _posture.VerifyAsync(new string(_postureAssertion.AsSpan()), _principal, _recentPosture, default).AsTask().GetAwaiter().GetResult();

    [Benchmark]
    public object PostureCached() => _posture.VerifyAsync(_postureAssertion, _principal, default).AsTask().GetAwaiter().GetResult();

    /// <summary>A principal the issuer has not seen: one ECDSA signature (and the reuse entry it leaves).</summary>
    [Benchmark]
    public string SignUpstreamAssertion() => _assertions.Issue(_decision, _principal with { }, null, "decision-1");

    /// <summary>The same token and decision again within the reuse window.</summary>
    [Benchmark]
    public string ReuseUpstreamAssertion() => _assertions.Issue(_decision, _principal, null, "decision-1");

    [Benchmark]
    public byte[] RenderAuditLine() => OcsfWriter.HttpActivity(_audit);

    /// <summary>The next decision of the same caller: written from the thread's template of the line before.</summary>
    [Benchmark]
    public int RenderAuditLineFromTemplate()
    {
        var line = AuditLine.Rent();
        try
        {
            return HttpActivityTemplates.Render(_audit, line).Length;
        }
        finally
        {
            AuditLine.Return(line);
        }
    }
}
