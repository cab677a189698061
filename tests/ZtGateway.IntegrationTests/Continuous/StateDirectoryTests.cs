using Microsoft.Extensions.Logging.Abstractions;
using ZtGateway.Hosting;
using ZtGateway.IntegrationTests.Infrastructure;

namespace ZtGateway.IntegrationTests.Continuous;

/// <summary>Without its state directory the gateway would forget revocations, so it does not start.</summary>
public sealed class StateDirectoryTests : IDisposable
{
    private readonly TestIdentity _identity = new();
    private readonly List<string> _directories = [];

    public void Dispose()
    {
        _identity.Dispose();
        foreach (var directory in _directories)
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private string Config(string gatewayYaml)
    {
        var segments = new Dictionary<string, string>
        {
            ["finance"] = """
                segment: finance
                listen: http://127.0.0.1:0
                services:
                  ledger: { destinations: [http://127.0.0.1:9] }
                routes:
                  - id: ledger
                    match: { path: "/ledger/{**rest}" }
                    service: ledger
                    allow: [ { name: staff, from: [finance], users: { groups: [finance-staff] } } ]
                """,
        };
        var directory = TestGateway.CreateConfig(_identity, segments, gatewayYaml);
        _directories.Add(directory);
        return Path.Combine(directory, "gateway.yaml");
    }

    private static Task<(GatewayHost? Host, IReadOnlyList<ZtGateway.Policy.Loading.Diagnostic> Diagnostics)> Start(string config) =>
        GatewayHost.StartAsync(new GatewayHostOptions { ConfigPath = config, WatchForChanges = false, LoggerFactory = NullLoggerFactory.Instance });

    [Fact]
    public async Task UnusableStateDirectory_StopsTheStart_WithADiagnostic()
    {
        var config = Config(TestGateway.DefaultGatewayYaml.Replace("stateDir: state", "stateDir: blocked", StringComparison.Ordinal));
        await File.WriteAllTextAsync(Path.Combine(Path.GetDirectoryName(config)!, "blocked"), "a file where the folder should be");

        var (host, diagnostics) = await Start(config);

        Assert.Null(host);
        Assert.Contains(diagnostics, d => d.Message.Contains("gateway.stateDir", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SecondGateway_OnTheSameStateDirectory_DoesNotStart()
    {
        var config = Config(TestGateway.DefaultGatewayYaml);
        var (first, _) = await Start(config);
        Assert.NotNull(first);
        await using (first)
        {
            var (second, diagnostics) = await Start(config);

            Assert.Null(second);
            Assert.Contains(diagnostics, d => d.Message.Contains("gateway.stateDir", StringComparison.Ordinal));
        }

        var (again, _) = await Start(config);
        Assert.NotNull(again);
        await again.DisposeAsync();
    }
}
