using System.Net;
using System.Net.Http.Headers;
using System.Text;
using ZtGateway.IntegrationTests.Infrastructure;

namespace ZtGateway.IntegrationTests.Continuous;

/// <summary>
/// The deployment the README recommends, as real processes: <c>ztgw run --segment finance</c>, a second finance
/// replica and <c>ztgw run --segment hr</c>, each with its own gateway.yaml (management port, state directory) over
/// one policy folder, on one real <c>redis-server</c>. A change made at one process is in force at the others, and
/// still after every process restarted.
/// </summary>
public sealed class SharedStateProcessTests : IAsyncLifetime
{
    private readonly TestIdentity _identity = new();
    private readonly TestTransmitter _transmitter = new();
    private readonly TestDevices _devices = new();
    private readonly Dictionary<string, int> _management = [];
    private readonly List<GatewayProcess> _processes = [];
    private RedisServer _redis = null!;
    private EchoUpstream _ledger = null!;
    private string _directory = null!;

    public async Task InitializeAsync()
    {
        _redis = await RedisServer.StartAsync();
        _ledger = await EchoUpstream.StartAsync("ledger");
        _directory = TestGateway.CreateConfig(_identity, Topology.Standard(_ledger.Url, _ledger.Url, DateTimeOffset.UtcNow.AddDays(1)), devices: _devices);
        _transmitter.WriteJwks(Path.Combine(_directory, "keys", "signals.jwks.json"));
        var sharedState = $"  sharedState:\n    redis: \"{_redis.Configuration}\"\n    prefix: procs\n";
        foreach (var name in new[] { "finance-1", "finance-2", "hr" })
        {
            _management[name] = Topology.UnusedPort();
            var yaml = ContinuousGateway.GatewayYaml(sharedState: sharedState)
                .Replace("stateDir: state", $"stateDir: state-{name}", StringComparison.Ordinal)
                .Replace("listen: http://127.0.0.1:0", $"listen: http://127.0.0.1:{_management[name]}", StringComparison.Ordinal)
                .Replace("file:audit/decisions.jsonl", $"file:audit/{name}.jsonl", StringComparison.Ordinal);
            File.WriteAllText(Path.Combine(_directory, name + ".yaml"), yaml);
        }

        await StartAllAsync();
    }

    public async Task DisposeAsync()
    {
        foreach (var process in _processes)
        {
            await process.DisposeAsync();
        }

        await _ledger.DisposeAsync();
        await _redis.DisposeAsync();
        _identity.Dispose();
        _transmitter.Dispose();
        _devices.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private async Task StartAllAsync()
    {
        foreach (var process in _processes)
        {
            Assert.Equal(0, await process.StopAsync());
            await process.DisposeAsync();
        }

        _processes.Clear();
        foreach (var name in new[] { "finance-1", "finance-2", "hr" })
        {
            _processes.Add(await GatewayProcess.StartAsync(Path.Combine(_directory, name + ".yaml"), name == "hr" ? "hr" : "finance", onlyThisSegment: true));
        }
    }

    private async Task<HttpStatusCode> LedgerAsync(int process, string token, string? posture = null)
    {
        using var client = new HttpClient { BaseAddress = _processes[process].Listener, Timeout = TimeSpan.FromSeconds(30) };
        var answer = await Problem.SendAsync(client, HttpMethod.Get, "/ledger/1", token,
            posture is null ? null : r => r.Headers.Add("X-Device-Posture", posture));
        return answer.Status;
    }

    private async Task<int> ManagementAsync(string gateway, HttpMethod method, string path, string contentType, string body, string? bearer = null)
    {
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_management[gateway]}"), Timeout = TimeSpan.FromSeconds(30) };
        using var request = new HttpRequestMessage(method, path) { Content = new StringContent(body, Encoding.UTF8) };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        if (bearer is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }

        using var response = await client.SendAsync(request);
        return (int)response.StatusCode;
    }

    [Fact]
    public async Task ChangesMadeAtOneProcess_AreInForceAtTheOthers_AndAfterEveryProcessRestarted()
    {
        var now = DateTimeOffset.UtcNow;
        var alice = _identity.User(now.AddSeconds(-30), "alice", ["finance-staff"]);
        var bob = _identity.User(now.AddSeconds(-30), "bob", ["finance-staff"]);
        var laptop = _devices.Posture(now, "laptop-9", "finance", user: "bob", lifetime: TimeSpan.FromMinutes(10));
        Assert.Equal(HttpStatusCode.OK, await LedgerAsync(0, alice));
        Assert.Equal(HttpStatusCode.OK, await LedgerAsync(1, bob, laptop));

        // The identity provider tells the hr gateway; alice is refused at both finance replicas.
        Assert.Equal(202, await ManagementAsync("hr", HttpMethod.Post, "/ssf/events", "application/secevent+jwt",
            _transmitter.UserEvent(DateTimeOffset.UtcNow, "session-revoked", "alice")));
        Assert.True(await ContinuousGateway.EventuallyAsync(async () => await LedgerAsync(0, alice) == HttpStatusCode.Unauthorized, TimeSpan.FromSeconds(1)));
        Assert.True(await ContinuousGateway.EventuallyAsync(async () => await LedgerAsync(1, alice) == HttpStatusCode.Unauthorized, TimeSpan.FromSeconds(1)));

        // An admin quarantines bob's laptop through one finance replica; the other refuses it.
        var admin = _identity.User(DateTimeOffset.UtcNow, "root", roles: ["ZtGatewayAdmin"]);
        Assert.Equal(200, await ManagementAsync("finance-1", HttpMethod.Put, "/admin/quarantine/devices/laptop-9", "application/json", "{\"for\":\"2h\"}", admin));
        Assert.True(await ContinuousGateway.EventuallyAsync(async () => await LedgerAsync(1, bob, laptop) == HttpStatusCode.Forbidden, TimeSpan.FromSeconds(1)));

        await StartAllAsync();

        Assert.Equal(HttpStatusCode.Unauthorized, await LedgerAsync(0, alice));
        Assert.Equal(HttpStatusCode.Unauthorized, await LedgerAsync(1, alice));
        Assert.Equal(HttpStatusCode.Forbidden, await LedgerAsync(0, bob, laptop));
        Assert.Equal(HttpStatusCode.OK, await LedgerAsync(1, bob));
    }
}
