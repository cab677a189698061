using System.Net;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using ZtGateway.DevTools;
using ZtGateway.Enforcement.Exchanges;
using ZtGateway.Hosting;
using ZtGateway.Policy.Engine;

namespace ZtGateway.Benchmarks;

/// <summary>
/// What the open-exchange registry costs: registering and removing an allowed request (paid by every forwarded
/// request), and deciding one open exchange again (paid per open exchange by every sweep and every change of
/// continuous evaluation), on a real gateway's state.
/// </summary>
[MemoryDiagnoser]
public class ExchangeRegistryBenchmarks
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "ztgw-bench-" + Guid.NewGuid().ToString("N")[..8]);
    private GatewayHost _host = null!;
    private ExchangeRegistry _registry = null!;
    private DefaultHttpContext _context = null!;
    private RequestContext _request = null!;
    private Decision _decision = null!;
    private OpenExchange _open = null!;

    [GlobalSetup]
    public void Setup()
    {
        Directory.CreateDirectory(Path.Combine(_directory, "segments"));
        var idp = Path.Combine(_directory, "idp.jwks.json");
        DevKeys.CreateRsa(DevKeys.PrivateKeyPathFor(idp), idp, overwrite: true);
        DevKeys.CreateSigningKey(Path.Combine(_directory, "signing.pem"), overwrite: true);
        File.WriteAllText(Path.Combine(_directory, "gateway.yaml"), """
            gateway:
              policyDir: segments
              stateDir: state
              management: { listen: "" }
            identity:
              issuers:
                - { name: bench, type: jwks, issuer: https://idp.bench, jwksFile: idp.jwks.json, audiences: [ztgw] }
            assertion:
              issuer: https://ztgw.bench
              signingKeyFile: signing.pem
            audit:
              sinks: ["file:audit/bench.jsonl"]
            """);
        File.WriteAllText(Path.Combine(_directory, "segments", "finance.yaml"), """
            segment: finance
            listen: http://127.0.0.1:0
            members: { networks: [127.0.0.0/8] }
            defaults: { device: any }
            services:
              ledger: { destinations: ["http://127.0.0.1:9"] }
            routes:
              - id: ledger
                match: { path: "/ledger/{**rest}" }
                service: ledger
                allow:
                  - { name: staff, from: [finance], users: { groups: [finance-staff] } }
            """);
        var (host, diagnostics) = GatewayHost.StartAsync(new GatewayHostOptions { ConfigPath = Path.Combine(_directory, "gateway.yaml") })
            .GetAwaiter().GetResult();
        _host = host ?? throw new InvalidOperationException(string.Join('\n', diagnostics.Select(d => d.Format())));
        _registry = new ExchangeRegistry(_host.State, _host.Continuous, TimeProvider.System, NullLogger.Instance);
        _context = new DefaultHttpContext();
        _request = new RequestContext
        {
            Segment = "finance",
            Method = "GET",
            Path = "/ledger/2026",
            ClientAddress = IPAddress.Loopback,
            Token = TokenStatus.Valid,
            Principal = new Principal
            {
                Kind = PrincipalKind.User, Subject = "alice", Issuer = "https://idp.bench", Groups = ["finance-staff"], Amr = ["pwd", "mfa"],
                AuthTime = DateTimeOffset.UtcNow, IssuedAt = DateTimeOffset.UtcNow,
            },
        };
        _decision = _host.State.Current.Engine.Decide(_request);
        if (!_decision.Allowed)
        {
            throw new InvalidOperationException("the benchmark request is refused: " + _decision.Reason.ToCode());
        }

        _open = _registry.Open(_context, _request, _decision, DateTimeOffset.UtcNow.AddHours(1), null, "decision-1", "trace-1", "v1");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _open.Dispose();
        _registry.Dispose();
        _host.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>Every allowed request: registered before it is forwarded, removed after.</summary>
    [Benchmark]
    public void OpenAndClose()
    {
        using var exchange = _registry.Open(_context, _request, _decision, DateTimeOffset.UtcNow.AddHours(1), null, "decision-2", "trace-2", "v1");
    }

    /// <summary>One open exchange decided again (a sweep pays this once per open exchange and second).</summary>
    [Benchmark]
    public Decision Redecide() => _registry.Redecide(_open, _host.State.Current, DateTimeOffset.UtcNow);
}
