using System.Net;
using System.Net.Sockets;
using Microsoft.IdentityModel.Tokens;
using ZtGateway.Hosting;
using ZtGateway.SampleService;

namespace ZtGateway.DevTools.Demo;

/// <summary>
/// A whole zero-trust network in one process: the development identity provider, a posture issuer and an
/// EDR signal key, three segments (finance, hr, engineering) each with its gateway listener and a sample
/// service, and the management listener. Everything listens on loopback; the config is written to a
/// temporary folder and is the same YAML an operator would write.
/// </summary>
internal sealed class DemoNetwork : IAsyncDisposable
{
    public const string LedgerSync = "spiffe://corp.example/finance/ledger-sync";

    private readonly List<IAsyncDisposable> _parts = [];

    private DemoNetwork(string directory) => Directory = directory;

    public string Directory { get; }

    public string ConfigPath => Path.Combine(Directory, "gateway.yaml");

    public string AuditPath => Path.Combine(Directory, "audit.jsonl");

    public DevIdentityProvider IdentityProvider { get; private set; } = null!;

    public GatewayHost Gateway { get; private set; } = null!;

    public SigningCredentials PostureKey { get; private set; } = null!;

    public SigningCredentials SignalKey { get; private set; } = null!;

    public Uri Segment(string name) => Gateway.Listeners[name];

    public static async Task<DemoNetwork> StartAsync(bool fixedPorts, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        var directory = Path.Combine(Path.GetTempPath(), "ztgw-demo-" + Guid.NewGuid().ToString("N")[..8]);
        System.IO.Directory.CreateDirectory(Path.Combine(directory, "segments"));
        System.IO.Directory.CreateDirectory(Path.Combine(directory, "keys"));
        var network = new DemoNetwork(directory);
        try
        {
            await network.StartPartsAsync(fixedPorts, loggerFactory, cancellationToken);
            return network;
        }
        catch
        {
            await network.DisposeAsync();
            throw;
        }
    }

    private async Task StartPartsAsync(bool fixedPorts, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        int Port(int wanted) => fixedPorts ? wanted : FreePort();
        var ports = new Dictionary<string, int>
        {
            ["idp"] = Port(5556), ["finance"] = Port(8081), ["hr"] = Port(8082), ["engineering"] = Port(8083), ["management"] = Port(9090),
            ["ledger"] = Port(7101), ["payroll"] = Port(7102), ["builds"] = Port(7103),
        };

        IdentityProvider = await DevIdentityProvider.StartAsync(new DevIdentityProviderOptions
        {
            Listen = $"http://127.0.0.1:{ports["idp"]}",
            KeyFile = Path.Combine(Directory, "keys", "idp.key.pem"),
        }, loggerFactory, cancellationToken);
        _parts.Add(IdentityProvider);

        DevKeys.CreateEc(Path.Combine(Directory, "keys", "posture.key.pem"), Path.Combine(Directory, "keys", "posture.jwks.json"), overwrite: true);
        DevKeys.CreateEc(Path.Combine(Directory, "keys", "edr.key.pem"), Path.Combine(Directory, "keys", "edr.jwks.json"), overwrite: true);
        PostureKey = DevKeys.LoadSigningCredentials(Path.Combine(Directory, "keys", "posture.key.pem"));
        SignalKey = DevKeys.LoadSigningCredentials(Path.Combine(Directory, "keys", "edr.key.pem"));

        DevKeys.CreateSigningKey(Path.Combine(Directory, "keys", "gateway-signing.pem"), overwrite: true);
        DemoConfig.Write(Directory, IdentityProvider.Authority, ports);

        foreach (var (service, segment) in new[] { ("ledger", "finance"), ("payroll", "hr"), ("builds", "engineering") })
        {
            var app = SampleServiceApp.Build(
            [
                "--urls", $"http://127.0.0.1:{ports[service]}", "--service", service, "--gateway-issuer", DemoConfig.AssertionIssuer,
                "--gateway-jwks", $"http://127.0.0.1:{ports[segment]}/.well-known/ztgw/jwks.json", "--Logging:LogLevel:Default", "None",
            ]);
            await app.StartAsync(cancellationToken);
            _parts.Add(app);
        }

        var (host, diagnostics) = await GatewayHost.StartAsync(new GatewayHostOptions
        {
            ConfigPath = ConfigPath,
            WatchForChanges = false,
            LoggerFactory = loggerFactory,
        }, cancellationToken);
        if (host is null)
        {
            throw new InvalidOperationException("the demo policy did not load:\n" + string.Join('\n', diagnostics.Select(d => d.Format())));
        }

        Gateway = host;
        _parts.Add(host);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        for (var i = _parts.Count - 1; i >= 0; i--)
        {
            await _parts[i].DisposeAsync();
        }

        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
