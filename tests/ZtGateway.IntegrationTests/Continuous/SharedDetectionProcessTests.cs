using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Xunit.Abstractions;
using ZtGateway.IntegrationTests.Infrastructure;

namespace ZtGateway.IntegrationTests.Continuous;

/// <summary>
/// One gateway per segment, as the README recommends: three real processes (<c>ztgw run --segment finance|hr|engineering</c>)
/// on one policy and one real <c>redis-server</c>. A principal probing all three segments, one per gateway, goes over
/// <c>maxSegments</c> for the deployment though each gateway sees one segment: one finding, and in contain mode the prober is
/// cut off at her home gateway while a normal user of the same run is untouched.
/// </summary>
public sealed class SharedDetectionProcessTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly string[] Segments = ["finance", "hr", "engineering"];

    private readonly TestIdentity _identity = new();
    private readonly TestTransmitter _transmitter = new();
    private readonly Dictionary<string, GatewayProcess> _processes = [];
    private RedisServer _redis = null!;
    private EchoUpstream _upstream = null!;
    private string _directory = null!;

    public async Task InitializeAsync()
    {
        _redis = await RedisServer.StartAsync();
        _upstream = await EchoUpstream.StartAsync("any");
        _directory = TestGateway.CreateConfig(_identity, LateralMovementTests.ThreeSegments(_upstream.Url));
        _transmitter.WriteJwks(Path.Combine(_directory, "keys", "signals.jwks.json"));
        const string Detection = """
            detection:
              window: 10m
              maxDenials: 5
              maxSegments: 2
              maxRoutes: 4
              learningPeriod: 1h
              response: contain
              containFor: 30m
            """;
        var sharedState = $"  sharedState:\n    redis: \"{_redis.Configuration}\"\n    prefix: fanout\n";
        foreach (var segment in Segments)
        {
            var yaml = ContinuousGateway.GatewayYaml(Detection, sharedState)
                .Replace("stateDir: state", $"stateDir: state-{segment}", StringComparison.Ordinal)
                .Replace("listen: http://127.0.0.1:0", $"listen: http://127.0.0.1:{Topology.UnusedPort()}", StringComparison.Ordinal)
                .Replace("file:audit/decisions.jsonl", $"file:audit/{segment}.jsonl", StringComparison.Ordinal);
            File.WriteAllText(Path.Combine(_directory, segment + ".yaml"), yaml);
            _processes[segment] = await GatewayProcess.StartAsync(Path.Combine(_directory, segment + ".yaml"), segment, onlyThisSegment: true);
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var process in _processes.Values)
        {
            await process.DisposeAsync();
        }

        await _upstream.DisposeAsync();
        await _redis.DisposeAsync();
        _identity.Dispose();
        _transmitter.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private async Task<Problem> SendAsync(string segment, string path, string token)
    {
        using var client = new HttpClient { BaseAddress = _processes[segment].Listener, Timeout = TimeSpan.FromSeconds(30) };
        return await Problem.SendAsync(client, HttpMethod.Get, path, token);
    }

    private List<(string Gateway, JsonElement Line)> Findings() =>
    [
        .. Segments.SelectMany(s =>
        {
            var file = Path.Combine(_directory, "audit", s + ".jsonl");
            return File.Exists(file) ? File.ReadAllLines(file).Select(l => (s, JsonDocument.Parse(l).RootElement)) : [];
        }).Where(f => f.Item2.GetProperty("class_uid").GetInt32() == 2004),
    ];

    // The findings written until now; 0 while a line is still being written.
    private int FindingsSoFar()
    {
        try
        {
            return Findings().Count;
        }
        catch (JsonException)
        {
            return 0;
        }
    }

    [Fact]
    public async Task FanOutAcrossThreeGateways_RaisesOneFinding_AndContainsTheProberAtHerHomeGateway()
    {
        var now = DateTimeOffset.UtcNow;
        var mallory = _identity.User(now, "mallory", ["finance-staff"]);
        var alice = _identity.User(now, "alice", ["finance-staff"]);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync("finance", "/ledger/1", alice)).Status);

        // One segment per gateway: no gateway alone sees more than one.
        Assert.Equal(HttpStatusCode.OK, (await SendAsync("finance", "/ledger/1", mallory)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync("hr", "/payroll/alice", mallory)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync("engineering", "/builds/1", mallory)).Status);
        var clock = Stopwatch.StartNew();

        Assert.True(await ContinuousGateway.EventuallyAsync(
            async () => (await SendAsync("finance", "/ledger/2", mallory)).Reason == "principal-quarantined", TimeSpan.FromSeconds(5)),
            "the prober was not contained at finance");
        output.WriteLine($"contained at finance {clock.Elapsed.TotalMilliseconds:F0} ms after the third segment's request");
        Assert.Equal(HttpStatusCode.OK, (await SendAsync("finance", "/ledger/3", alice)).Status);

        // The finding reaches the audit file from the gateway's spool a moment later.
        Assert.True(await ContinuousGateway.EventuallyAsync(() => Task.FromResult(FindingsSoFar() > 0), TimeSpan.FromSeconds(5)), "no finding was written");
        var (_, finding) = Assert.Single(Findings());
        var ztgw = finding.GetProperty("unmapped").GetProperty("ztgw");
        Assert.Equal("segment-fan-out", ztgw.GetProperty("detection").GetString());
        Assert.Equal("mallory", finding.GetProperty("actor").GetProperty("user").GetProperty("uid").GetString());
        Assert.Equal(3, ztgw.GetProperty("count").GetInt32());
        Assert.Equal("Quarantined", finding.GetProperty("disposition").GetString());
    }
}
