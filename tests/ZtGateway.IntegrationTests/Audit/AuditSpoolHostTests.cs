using Microsoft.Extensions.Logging.Abstractions;
using ZtGateway.Hosting;
using ZtGateway.IntegrationTests.Infrastructure;

namespace ZtGateway.IntegrationTests.Audit;

/// <summary>
/// The spool as the host opens it: a reload cannot change it, a start refuses a file that is not a spool (and leaves
/// it as it is) or a spool another gateway holds, each with the message of docs/configuration.md.
/// </summary>
public sealed class AuditSpoolHostTests : IDisposable
{
    private readonly TestIdentity _identity = new();
    private readonly List<string> _directories = [];

    public void Dispose()
    {
        _identity.Dispose();
        foreach (var directory in _directories)
        {
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private string Config(string? gatewayYaml = null)
    {
        var directory = TestGateway.CreateConfig(_identity, new Dictionary<string, string> { ["finance"] = ZtgwProcess.FinanceSegment }, gatewayYaml);
        _directories.Add(directory);
        return Path.Combine(directory, "gateway.yaml");
    }

    private static Task<(GatewayHost? Host, IReadOnlyList<Policy.Loading.Diagnostic> Diagnostics)> StartAsync(string config) =>
        GatewayHost.StartAsync(new GatewayHostOptions { ConfigPath = config, LoggerFactory = NullLoggerFactory.Instance });

    [Fact]
    public async Task AReloadThatChangesTheSpool_IsRefused_AsNeedingARestart()
    {
        await using var gateway = await TestGateway.StartAsync(_identity, new Dictionary<string, string> { ["finance"] = ZtgwProcess.FinanceSegment });
        await File.WriteAllTextAsync(gateway.GatewayFile, TestGateway.DefaultGatewayYaml + "\n  spool: { size: 64MiB }\n");

        var result = await gateway.Host.ReloadAsync();

        Assert.False(result.Succeeded);
        var refusal = Assert.Single(result.Diagnostics);
        Assert.Equal("audit.spool changed; restart the gateway to apply it", refusal.Message);
        Assert.Equal(gateway.GatewayFile, refusal.Location.File);
        Assert.Contains("restart-required", File.ReadAllLines(gateway.AuditFile)[^1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task AStart_RefusesAFileThatIsNotASpool_AndLeavesItAsItIs()
    {
        var config = Config();
        var state = Path.Combine(Path.GetDirectoryName(config)!, "state");
        Directory.CreateDirectory(state);
        var foreign = Path.Combine(state, "ztgw-audit.spool");
        var content = new byte[8192];
        Array.Fill(content, (byte)'x');
        await File.WriteAllBytesAsync(foreign, content);

        var (host, diagnostics) = await StartAsync(config);

        Assert.Null(host);
        Assert.Equal(
            $"gateway.stateDir {state}: is not an audit spool (it does not start with the spool's signature); move it away or name another audit.spool.path",
            Assert.Single(diagnostics).Message);
        Assert.Equal(content, await File.ReadAllBytesAsync(foreign));
    }

    [Fact]
    public async Task AStart_RefusesASpoolAnotherGatewayHolds()
    {
        await using var first = await TestGateway.StartAsync(_identity, new Dictionary<string, string> { ["finance"] = ZtgwProcess.FinanceSegment });
        var spool = Path.Combine(first.Directory, "state", "ztgw-audit.spool");
        var config = Config(TestGateway.DefaultGatewayYaml + $"\n  spool:\n    path: \"{spool}\"\n");

        var (host, diagnostics) = await StartAsync(config);

        Assert.Null(host);
        Assert.StartsWith($"audit.spool.path {spool}: ", Assert.Single(diagnostics).Message, StringComparison.Ordinal);
    }
}
