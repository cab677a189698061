using System.Net;
using System.Net.Sockets;
using ZtGateway.Cli;
using ZtGateway.Hosting;
using ZtGateway.IntegrationTests.Infrastructure;

namespace ZtGateway.IntegrationTests.Hosting;

/// <summary>An invalid policy at start: every error reported, exit status 1, no port opened.</summary>
public sealed class StartupTests : IDisposable
{
    private readonly TestIdentity _identity = new();

    public void Dispose() => _identity.Dispose();

    private static string Segment(int port, string service) => $$"""
        segment: finance
        listen: http://127.0.0.1:{{port}}
        services:
          ledger: { destinations: ["http://127.0.0.1:1"] }
        routes:
          - id: ledger
            match: { path: "/ledger/{**rest}" }
            service: {{service}}
            allow:
              - { name: staff, from: [finance, payroll], users: { groups: [staff] } }
        """;

    [Fact]
    public async Task InvalidPolicy_ReportsEveryError_AndOpensNoPort()
    {
        var port = Topology.UnusedPort();
        var directory = TestGateway.CreateConfig(_identity, new Dictionary<string, string> { ["finance"] = Segment(port, "ledgr") });

        var (host, diagnostics) = await GatewayHost.StartAsync(new GatewayHostOptions { ConfigPath = Path.Combine(directory, "gateway.yaml") });

        Assert.Null(host);
        Assert.Contains(diagnostics, d => d.Message.Contains("ledgr", StringComparison.Ordinal));
        Assert.Contains(diagnostics, d => d.Message.Contains("payroll", StringComparison.Ordinal));
        using var probe = new TcpClient();
        await Assert.ThrowsAnyAsync<SocketException>(() => probe.ConnectAsync(IPAddress.Loopback, port));
    }

    [Fact]
    public async Task RunCommand_WithInvalidPolicy_ExitsOne_WithFileLineColumnErrors()
    {
        var directory = TestGateway.CreateConfig(_identity, new Dictionary<string, string> { ["finance"] = Segment(Topology.UnusedPort(), "ledgr") });
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        var exit = await ZtgwCommand.InvokeAsync(["run", "--config", Path.Combine(directory, "gateway.yaml")], stdout, stderr);

        Assert.Equal(1, exit);
        Assert.Matches(@"finance\.yaml:8:\d+: error: .*ledgr", stderr.ToString());
    }

    [Fact]
    public async Task ValidateCommand_ValidPolicy_ExitsZero()
    {
        var directory = TestGateway.CreateConfig(_identity, new Dictionary<string, string> { ["finance"] = Segment(8081, "ledger").Replace(", payroll", "", StringComparison.Ordinal) });
        var stdout = new StringWriter();

        var exit = await ZtgwCommand.InvokeAsync(["validate", "--config", Path.Combine(directory, "gateway.yaml")], stdout, new StringWriter());

        Assert.Equal(0, exit);
        Assert.Contains("valid (1 segments, 1 routes", stdout.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownVerb_IsUsageError()
    {
        var exit = await ZtgwCommand.InvokeAsync(["frobnicate"], new StringWriter(), new StringWriter());

        Assert.Equal(2, exit);
    }
}
