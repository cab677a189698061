using System.Net;
using System.Text.Json;
using ZtGateway.IntegrationTests.Infrastructure;

namespace ZtGateway.IntegrationTests.Continuous;

/// <summary>
/// The detector's windows counted over two replicas of the finance gateway on one real <c>redis-server</c>: a probe spread
/// over the replicas goes over the deployment's limit though neither replica's own count does, raises one finding for the
/// deployment, and in contain mode is refused at both; while Redis is away each replica still detects on what it saw.
/// </summary>
public sealed class SharedDetectionTests : IAsyncLifetime
{
    private readonly TestIdentity _identity = new();
    private readonly TestTransmitter _transmitter = new();
    private readonly string _prefix = "ztgw-det-" + Guid.NewGuid().ToString("N")[..8];
    private readonly List<ContinuousGateway> _gateways = [];
    private RedisServer _redis = null!;
    private EchoUpstream _ledger = null!;

    public async Task InitializeAsync()
    {
        _redis = await RedisServer.StartAsync();
        _ledger = await EchoUpstream.StartAsync("ledger");
    }

    public async Task DisposeAsync()
    {
        foreach (var gateway in _gateways)
        {
            await gateway.DisposeAsync();
        }

        await _ledger.DisposeAsync();
        await _redis.DisposeAsync();
        _identity.Dispose();
        _transmitter.Dispose();
    }

    private static string Detection(string response) => $"""
        detection:
          window: 10m
          maxDenials: 5
          maxSegments: 3
          maxRoutes: 10
          learningPeriod: 1h
          response: {response}
          containFor: 30m
        """;

    private async Task StartReplicasAsync(string response)
    {
        var sharedState = $"  sharedState:\n    redis: \"{_redis.Configuration},connectTimeout=1000\"\n    prefix: {_prefix}\n";
        for (var i = 0; i < 2; i++)
        {
            _gateways.Add(await ContinuousGateway.StartAsync(_identity, _transmitter, Topology.Standard(_ledger.Url, _ledger.Url, DateTimeOffset.UtcNow.AddDays(1)),
                detection: Detection(response), sharedState: sharedState, segment: "finance"));
        }

        Assert.True(await ContinuousGateway.EventuallyAsync(() => Task.FromResult(_gateways.All(g => g.Host.SharedState?.Connected == true)),
            TimeSpan.FromSeconds(10)));
    }

    private static async Task<Problem> SendAsync(ContinuousGateway gateway, string path, string token)
    {
        using var finance = gateway.Client("finance");
        return await Problem.SendAsync(finance, HttpMethod.Get, path, token);
    }

    private List<JsonElement> Findings() =>
    [
        .. _gateways.SelectMany(g => File.Exists(g.AuditFile) ? File.ReadAllLines(g.AuditFile) : [])
            .Select(l => JsonDocument.Parse(l).RootElement)
            .Where(l => l.GetProperty("class_uid").GetInt32() == 2004),
    ];

    private static string Kind(JsonElement finding) => finding.GetProperty("unmapped").GetProperty("ztgw").GetProperty("detection").GetString()!;

    private async Task<bool> FindingsAppearAsync(int count) =>
        await ContinuousGateway.EventuallyAsync(() => Task.FromResult(Findings().Count >= count), TimeSpan.FromSeconds(5));

    [Fact]
    public async Task DenialsSpreadOverTwoReplicas_AreCountedTogether_AndRaiseOneFinding()
    {
        await StartReplicasAsync("alert");
        var mallory = _identity.User(_gateways[0].Time.GetUtcNow(), "mallory", ["finance-staff"]);

        // Three denials at each replica: 6 for the deployment, over the limit of 5; 3 at either replica alone.
        for (var i = 0; i < 3; i++)
        {
            foreach (var gateway in _gateways)
            {
                Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(gateway, $"/reports/q{i}", mallory)).Status);
            }
        }

        Assert.True(await FindingsAppearAsync(1), "no finding was raised for the deployment's six denials");

        // Both replicas counted 6 in turn; only one of them raised the finding. Each denial more is the same story.
        foreach (var gateway in _gateways)
        {
            Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(gateway, "/reports/q9", mallory)).Status);
        }

        await Task.Delay(500);
        var finding = Assert.Single(Findings());
        Assert.Equal("denial-burst", Kind(finding));
        Assert.Equal("mallory", finding.GetProperty("actor").GetProperty("user").GetProperty("uid").GetString());
        Assert.Equal(5, finding.GetProperty("unmapped").GetProperty("ztgw").GetProperty("threshold").GetInt32());
        Assert.True(finding.GetProperty("unmapped").GetProperty("ztgw").GetProperty("count").GetInt32() > 5);

        // Alert only: her normal access stays.
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(_gateways[1], "/ledger/1", mallory)).Status);
    }

    [Fact]
    public async Task InContainMode_TheDeploymentsFinding_CutsTheProberOffAtEveryReplica_AndNotTheNormalUser()
    {
        await StartReplicasAsync("contain");
        var now = _gateways[0].Time.GetUtcNow();
        var mallory = _identity.User(now, "mallory", ["finance-staff"]);
        var alice = _identity.User(now, "alice", ["finance-staff"]);
        for (var i = 0; i < 3; i++)
        {
            foreach (var gateway in _gateways)
            {
                Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(gateway, $"/reports/q{i}", mallory)).Status);
                Assert.Equal(HttpStatusCode.OK, (await SendAsync(gateway, "/ledger/1", alice)).Status);
            }
        }

        foreach (var gateway in _gateways)
        {
            Assert.True(await ContinuousGateway.EventuallyAsync(
                async () => (await SendAsync(gateway, "/ledger/1", mallory)).Reason == "principal-quarantined", TimeSpan.FromSeconds(5)));
            Assert.Equal(HttpStatusCode.OK, (await SendAsync(gateway, "/ledger/1", alice)).Status);
        }

        var finding = Assert.Single(Findings());
        Assert.Equal("Quarantined", finding.GetProperty("disposition").GetString());
    }

    [Fact]
    public async Task WhileRedisIsAway_EachReplicaDetectsOnWhatItSaw()
    {
        await StartReplicasAsync("alert");
        await _redis.StopAsync();
        Assert.True(await ContinuousGateway.EventuallyAsync(() => Task.FromResult(_gateways.All(g => g.Host.SharedState?.Connected == false)),
            TimeSpan.FromSeconds(10)));

        var mallory = _identity.User(_gateways[0].Time.GetUtcNow(), "mallory", ["finance-staff"]);
        for (var i = 0; i < 6; i++)
        {
            Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(_gateways[0], $"/reports/q{i}", mallory)).Status);
        }

        // Raised on the request path from the replica's own count, as without sharing; the other replica saw nothing.
        var finding = Assert.Single(Findings());
        Assert.Equal("denial-burst", Kind(finding));
        Assert.Equal(6, finding.GetProperty("unmapped").GetProperty("ztgw").GetProperty("count").GetInt32());
        Assert.Empty(File.Exists(_gateways[1].AuditFile)
            ? File.ReadAllLines(_gateways[1].AuditFile).Where(l => l.Contains("\"class_uid\":2004", StringComparison.Ordinal))
            : []);
    }
}
