using System.Net;
using System.Net.Sockets;
using Microsoft.IdentityModel.Tokens;
using ZtGateway.Hosting;
using ZtGateway.SampleService;

namespace ZtGateway.DevTools.Demo;

/// <summary>
/// A whole zero-trust network in one process: the development identity provider, a posture issuer and an
/// EDR signal key, three segments (finance, hr, engineering) each with a sample service and its own gateway
/// (own listener, management listener, state folder and audit file, as <c>ztgw run --segment</c> starts it), the
/// gateways sharing their state through one Redis (<see cref="DemoSharedStore"/>). Everything listens on
/// loopback; the config is written to a temporary folder and is the same YAML an operator would write.
/// </summary>
internal sealed class DemoNetwork : IAsyncDisposable
{
    public const string LedgerSync = "spiffe://corp.example/finance/ledger-sync";

    private readonly List<IAsyncDisposable> _parts = [];

    private readonly Dictionary<string, GatewayHost> _gateways = new(StringComparer.Ordinal);

    private DemoNetwork(string directory)
    {
        Directory = directory;
        Prefix = Path.GetFileName(directory);
    }

    public string Directory { get; }

    /// <summary>The key prefix in the shared store: one per run, so a Redis used before holds no quarantine of this run's devices.</summary>
    public string Prefix { get; }

    public DevIdentityProvider IdentityProvider { get; private set; } = null!;

    public DemoSharedStore Store { get; private set; } = null!;

    /// <summary>The gateway of each segment.</summary>
    public IReadOnlyDictionary<string, GatewayHost> Gateways => _gateways;

    public string ConfigPath(string segment) => Path.Combine(Directory, DemoConfig.GatewayFile(segment));

    public string AuditPath(string segment) => Path.Combine(Directory, DemoConfig.AuditFile(segment));

    public Uri Management(string segment) => _gateways[segment].ManagementAddress!;

    public SigningCredentials PostureKey { get; private set; } = null!;

    public SigningCredentials SignalKey { get; private set; } = null!;

    public Uri Segment(string name) => _gateways[name].Listeners[name];

    /// <summary>Starts the network; with <paramref name="redis"/> null the gateways share an embedded Garnet server.</summary>
    public static async Task<DemoNetwork> StartAsync(bool fixedPorts, string? redis, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var directory = Path.Combine(Path.GetTempPath(), "ztgw-demo-" + Guid.NewGuid().ToString("N")[..8]);
            System.IO.Directory.CreateDirectory(Path.Combine(directory, "segments"));
            System.IO.Directory.CreateDirectory(Path.Combine(directory, "keys"));
            var network = new DemoNetwork(directory);
            try
            {
                await network.StartPartsAsync(fixedPorts, redis, loggerFactory, cancellationToken);
                return network;
            }
            catch (Exception ex) when (!fixedPorts && attempt < 3 && ex.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
            {
                // A free port was taken by another process between asking and binding: try again on other free ports.
                await network.DisposeAsync();
            }
            catch
            {
                await network.DisposeAsync();
                throw;
            }
        }
    }

    private async Task StartPartsAsync(bool fixedPorts, string? redis, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        int Port(int wanted) => fixedPorts ? wanted : FreePort();
        var ports = new Dictionary<string, int>
        {
            ["idp"] = Port(5556), ["finance"] = Port(8081), ["hr"] = Port(8082), ["engineering"] = Port(8083),
            ["management-finance"] = Port(9090), ["management-hr"] = Port(9091), ["management-engineering"] = Port(9092),
            ["ledger"] = Port(7101), ["payroll"] = Port(7102), ["builds"] = Port(7103),
        };

        // First in, last out: the store outlives the gateways that write to it.
        Store = redis is null ? DemoSharedStore.StartEmbedded() : DemoSharedStore.Existing(redis);
        _parts.Add(Store);

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
        DemoConfig.Write(Directory, IdentityProvider.Authority, ports, Store.Configuration, Prefix);

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

        foreach (var segment in DemoConfig.Segments)
        {
            var (host, diagnostics) = await GatewayHost.StartAsync(new GatewayHostOptions
            {
                ConfigPath = ConfigPath(segment),
                Segment = segment,
                WatchForChanges = false,
                LoggerFactory = loggerFactory,
            }, cancellationToken);
            if (host is null)
            {
                throw new InvalidOperationException($"the {segment} gateway did not start:\n" + string.Join('\n', diagnostics.Select(d => d.Format())));
            }

            _gateways[segment] = host;
            _parts.Add(host);
        }
    }

    /// <summary>
    /// Waits until every gateway has reached the shared store, at most <paramref name="timeout"/>; false with the
    /// first gateway's account of it when one has not.
    /// </summary>
    public async Task<(bool Connected, string Detail)> WaitForSharedStateAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var waiting = _gateways.Values.FirstOrDefault(g => g.SharedState is not { Connected: true });
            if (waiting is null)
            {
                return (true, string.Empty);
            }

            if (DateTime.UtcNow >= deadline)
            {
                return (false, waiting.SharedState?.Detail ?? "no shared state is configured");
            }

            await Task.Delay(50, cancellationToken);
        }
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
