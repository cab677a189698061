using System.Diagnostics;
using System.Net.Http;
using System.Text.Json;
using Xunit.Abstractions;
using ZtGateway.IntegrationTests.Infrastructure;

namespace ZtGateway.IntegrationTests.Continuous;

/// <summary>
/// 1,000 revocations pushed through one gateway as fast as it takes them reach three other gateways on the same
/// <c>redis-server</c>, none lost; how long each took to arrive is reported (bench/README.md records a run).
/// </summary>
public sealed class SharedStateScaleTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Revocations = 1_000;

    private readonly TestIdentity _identity = new();
    private readonly TestTransmitter _transmitter = new();
    private readonly List<ContinuousGateway> _gateways = [];
    private RedisServer _redis = null!;
    private EchoUpstream _ledger = null!;

    public async Task InitializeAsync()
    {
        _redis = await RedisServer.StartAsync();
        _ledger = await EchoUpstream.StartAsync("ledger");
        var sharedState = $"  sharedState:\n    redis: \"{_redis.Configuration}\"\n    prefix: scale\n";
        for (var i = 0; i < 4; i++)
        {
            _gateways.Add(await ContinuousGateway.StartAsync(_identity, _transmitter,
                Topology.Standard(_ledger.Url, _ledger.Url, DateTimeOffset.UtcNow.AddDays(1)), sharedState: sharedState, segment: "finance"));
        }
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

    [Fact]
    public async Task AThousandRevocations_ReachEveryOtherGateway_NoneLost()
    {
        Assert.True(await ContinuousGateway.EventuallyAsync(
            () => Task.FromResult(_gateways.All(g => g.Host.SharedState?.Connected == true)), TimeSpan.FromSeconds(10)));
        var admin = _identity.User(_gateways[0].Time.GetUtcNow(), "root", roles: ["ZtGatewayAdmin"]);
        var pushed = new Dictionary<string, TimeSpan>(StringComparer.Ordinal);
        var arrived = _gateways.Skip(1).Select(_ => new Dictionary<string, TimeSpan>(StringComparer.Ordinal)).ToList();
        var clock = Stopwatch.StartNew();

        using var watching = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var watchers = _gateways.Skip(1).Select((gateway, i) => WatchAsync(gateway, admin, arrived[i], clock, watching.Token)).ToList();

        var source = _gateways[0];
        for (var i = 0; i < Revocations; i++)
        {
            var subject = "user-" + i.ToString("D4", System.Globalization.CultureInfo.InvariantCulture);
            var (status, body) = await source.PushAsync(_transmitter.UserEvent(source.Time.GetUtcNow(), "session-revoked", subject));
            Assert.True(status == 202, body);
            pushed[subject] = clock.Elapsed;
        }

        var pushing = clock.Elapsed;
        await Task.WhenAll(watchers);

        foreach (var seen in arrived)
        {
            Assert.Equal(Revocations, seen.Count); // none lost
        }

        var delays = arrived.SelectMany(seen => seen.Select(p => (p.Value - pushed[p.Key]).TotalMilliseconds)).Order().ToList();
        var p50 = delays[delays.Count / 2];
        var p99 = delays[(int)(delays.Count * 0.99)];
        output.WriteLine($"{Revocations} revocations pushed in {pushing.TotalSeconds:F1} s; at 3 other gateways: propagation p50 {p50:F0} ms, p99 {p99:F0} ms, max {delays[^1]:F0} ms (observed by polling /admin/quarantine every 20 ms)");
        Assert.True(p99 < 1000, $"p99 {p99} ms");
    }

    // Polls one gateway's list of revocations, noting when each subject first appears.
    private static async Task WatchAsync(ContinuousGateway gateway, string admin, Dictionary<string, TimeSpan> arrived, Stopwatch clock,
        CancellationToken cancellationToken)
    {
        while (arrived.Count < Revocations && !cancellationToken.IsCancellationRequested)
        {
            var (status, body) = await gateway.AdminAsync(HttpMethod.Get, "/admin/quarantine", admin);
            var now = clock.Elapsed;
            Assert.Equal(200, status);
            using var document = JsonDocument.Parse(body);
            foreach (var revocation in document.RootElement.GetProperty("revocations").EnumerateArray())
            {
                arrived.TryAdd(revocation.GetProperty("sub").GetString()!, now);
            }

            try
            {
                await Task.Delay(20, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
