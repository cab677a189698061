using System.Net;
using ZtGateway.DevTools.Demo;
using ZtGateway.IntegrationTests.Infrastructure;

namespace ZtGateway.IntegrationTests.Continuous;

/// <summary>
/// The shared state on Garnet, the Redis-compatible server the demo hosts, with a password: what Redis does in
/// <see cref="SharedStateTests"/> (propagation, one claim per signal, compaction, one finding for the deployment) works the
/// same, so the commands the gateway uses are ones Garnet serves.
/// </summary>
public sealed class SharedStateOnGarnetTests : IAsyncLifetime
{
    private const long CompactAbove = 40;

    private readonly TestIdentity _identity = new();
    private readonly TestTransmitter _transmitter = new();
    private readonly TestDevices _devices = new();
    private readonly List<ContinuousGateway> _gateways = [];
    private DemoSharedStore _garnet = null!;
    private EchoUpstream _ledger = null!;

    public async Task InitializeAsync()
    {
        _garnet = DemoSharedStore.StartEmbedded();
        _ledger = await EchoUpstream.StartAsync("ledger");
        for (var i = 0; i < 3; i++)
        {
            _gateways.Add(await StartGatewayAsync());
        }

        Assert.True(await ContinuousGateway.EventuallyAsync(() => Task.FromResult(_gateways.All(g => g.Host.SharedState?.Connected == true)),
            TimeSpan.FromSeconds(10)), "a gateway never reached Garnet");
    }

    public async Task DisposeAsync()
    {
        foreach (var gateway in _gateways)
        {
            await gateway.DisposeAsync();
        }

        await _ledger.DisposeAsync();
        await _garnet.DisposeAsync();
        _identity.Dispose();
        _transmitter.Dispose();
        _devices.Dispose();
    }

    private ContinuousGateway A => _gateways[0];

    private ContinuousGateway B => _gateways[1];

    private Task<ContinuousGateway> StartGatewayAsync() => ContinuousGateway.StartAsync(_identity, _transmitter,
        Topology.Standard(_ledger.Url, _ledger.Url, DateTimeOffset.UtcNow.AddDays(1)), _devices,
        detection: "detection:\n  window: 10m\n  maxDenials: 5\n  learningPeriod: 1h\n  response: alert\n",
        sharedState: $"  sharedState:\n    redis: \"{_garnet.Configuration}\"\n    prefix: garnet\n", segment: "finance", compactAbove: CompactAbove);

    private static async Task<Problem> SendAsync(ContinuousGateway gateway, string path, string token, string? posture = null)
    {
        using var finance = gateway.Client("finance");
        return await Problem.SendAsync(finance, HttpMethod.Get, path, token, posture is null ? null : r => r.Headers.Add("X-Device-Posture", posture));
    }

    private static async Task<bool> RefusedAsync(ContinuousGateway gateway, string token, string? posture = null) =>
        await ContinuousGateway.EventuallyAsync(async () => (await SendAsync(gateway, "/ledger/1", token, posture)).Status != HttpStatusCode.OK,
            TimeSpan.FromSeconds(1));

    [Fact]
    public async Task ARevocationIsInForceEverywhere_ASignalIsAcceptedOnce_AndAProbeIsOneFinding()
    {
        var alice = _identity.User(A.Time.GetUtcNow(), "alice", ["finance-staff"]);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(B, "/ledger/1", alice)).Status);
        A.Time.Advance(TimeSpan.FromSeconds(5));
        var set = _transmitter.UserEvent(A.Time.GetUtcNow(), "session-revoked", "alice");
        Assert.Equal(202, (await A.PushAsync(set)).Status);
        Assert.True(await RefusedAsync(B, alice));
        Assert.True(await RefusedAsync(_gateways[2], alice));
        Assert.Equal(400, (await B.PushAsync(set)).Status);

        var mallory = _identity.User(A.Time.GetUtcNow(), "mallory", ["finance-staff"]);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(A, $"/reports/{i}", mallory)).Status);
            Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(B, $"/reports/{i}", mallory)).Status);
        }

        string[] Findings() => [.. _gateways.SelectMany(g => File.Exists(g.AuditFile) ? File.ReadAllLines(g.AuditFile) : [])
            .Where(l => l.Contains("\"class_uid\":2004", StringComparison.Ordinal))];
        Assert.True(await ContinuousGateway.EventuallyAsync(() => Task.FromResult(Findings().Length > 0), TimeSpan.FromSeconds(5)));
        await Task.Delay(300);
        Assert.Contains("denial-burst", Assert.Single(Findings()), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ALongHistory_IsCompacted_AndAGatewayThatStartsAfterwardsStillKnowsWhatIsInForce()
    {
        var admin = _identity.User(B.Time.GetUtcNow(), "root", roles: ["ZtGatewayAdmin"]);
        for (var i = 0; i < 30; i++)
        {
            B.Time.Advance(TimeSpan.FromSeconds(1));
            Assert.Equal(200, (await B.AdminAsync(HttpMethod.Put, "/admin/quarantine/devices/laptop-3", admin, "{\"for\":\"2h\"}")).Status);
            B.Time.Advance(TimeSpan.FromSeconds(1));
            Assert.Equal(204, (await B.AdminAsync(HttpMethod.Delete, "/admin/quarantine/devices/laptop-3", admin)).Status);
        }

        B.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(200, (await B.AdminAsync(HttpMethod.Put, "/admin/quarantine/devices/laptop-3", admin, "{\"for\":\"2h\"}")).Status);
        Assert.True(await ContinuousGateway.EventuallyAsync(
            () => Task.FromResult(_gateways.SelectMany(g => g.Logs).Any(l => l.Contains("garnet:log compacted", StringComparison.Ordinal))),
            TimeSpan.FromSeconds(10)), "the log was never compacted");

        var late = await StartGatewayAsync();
        _gateways.Add(late);
        var bob = _identity.User(late.Time.GetUtcNow(), "bob", ["finance-staff"]);
        Assert.True(await RefusedAsync(late, bob, _devices.Posture(late.Time.GetUtcNow(), "laptop-3", "finance", user: "bob")));
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(late, "/ledger/1", bob)).Status);
    }
}
