using System.Diagnostics;
using System.Net;
using Xunit.Abstractions;
using ZtGateway.IntegrationTests.Infrastructure;

namespace ZtGateway.IntegrationTests.Continuous;

/// <summary>
/// Three replicas of the finance gateway, each with its own state directory, on one real <c>redis-server</c>
/// (<c>gateway.sharedState</c>): a change accepted by one is in force at the others within a second, a signal is
/// accepted once for the deployment, an outage keeps what is known and loses nothing, and what a writer to Redis
/// plants changes nothing.
/// </summary>
public sealed class SharedStateTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Propagation = TimeSpan.FromSeconds(1);

    private readonly TestIdentity _identity = new();
    private readonly TestTransmitter _transmitter = new();
    private readonly TestDevices _devices = new();
    private readonly string _prefix = "ztgw-test-" + Guid.NewGuid().ToString("N")[..8];
    private readonly List<ContinuousGateway> _gateways = [];
    private RedisServer _redis = null!;
    private EchoUpstream _ledger = null!;

    public async Task InitializeAsync()
    {
        _redis = await RedisServer.StartAsync();
        _ledger = await EchoUpstream.StartAsync("ledger");
        for (var i = 0; i < 3; i++)
        {
            _gateways.Add(await StartGatewayAsync());
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
        _devices.Dispose();
    }

    private ContinuousGateway A => _gateways[0];

    private ContinuousGateway B => _gateways[1];

    private ContinuousGateway C => _gateways[2];

    private string SharedState => $"  sharedState:\n    redis: \"{_redis.Configuration},connectTimeout=1000\"\n    prefix: {_prefix}\n";

    private const long CompactAbove = 40;

    private Task<ContinuousGateway> StartGatewayAsync() => ContinuousGateway.StartAsync(_identity, _transmitter,
        Topology.Standard(_ledger.Url, _ledger.Url, DateTimeOffset.UtcNow.AddDays(1)), _devices, sharedState: SharedState, segment: "finance",
        compactAbove: CompactAbove);

    private static async Task<HttpStatusCode> LedgerAsync(ContinuousGateway gateway, string token, string? posture = null)
    {
        using var finance = gateway.Client("finance");
        var answer = await Problem.SendAsync(finance, HttpMethod.Get, "/ledger/1", token,
            posture is null ? null : r => r.Headers.Add("X-Device-Posture", posture));
        return answer.Status;
    }

    private static async Task<TimeSpan> RefusedWithinAsync(ContinuousGateway gateway, string token, string? posture = null)
    {
        var clock = Stopwatch.StartNew();
        var refused = await ContinuousGateway.EventuallyAsync(async () => await LedgerAsync(gateway, token, posture) != HttpStatusCode.OK, TimeSpan.FromSeconds(5));
        Assert.True(refused, "the change never reached this gateway");
        return clock.Elapsed;
    }

    private async Task<bool> AllConnectedAsync() =>
        await ContinuousGateway.EventuallyAsync(() => Task.FromResult(_gateways.All(g => g.Host.SharedState?.Connected == true)), TimeSpan.FromSeconds(10));

    [Fact]
    public async Task ARevocationAcceptedByOneGateway_IsInForceAtTheOthers_WithinASecond()
    {
        Assert.True(await AllConnectedAsync());
        var alice = _identity.User(A.Time.GetUtcNow(), "alice", ["finance-staff"]);
        var bob = _identity.User(A.Time.GetUtcNow(), "bob", ["finance-staff"]);
        foreach (var gateway in _gateways)
        {
            Assert.Equal(HttpStatusCode.OK, await LedgerAsync(gateway, alice));
        }

        A.Time.Advance(TimeSpan.FromSeconds(5));
        var (status, _) = await A.PushAsync(_transmitter.UserEvent(A.Time.GetUtcNow(), "session-revoked", "alice"));
        Assert.Equal(202, status);

        Assert.Equal(HttpStatusCode.Unauthorized, await LedgerAsync(A, alice));
        var atB = await RefusedWithinAsync(B, alice);
        var atC = await RefusedWithinAsync(C, alice);
        output.WriteLine($"revocation in force at B after {atB.TotalMilliseconds:F0} ms, at C after {atC.TotalMilliseconds:F0} ms (C measured after B)");
        Assert.True(atB < Propagation, $"B took {atB}");
        Assert.True(atC < Propagation, $"C took {atC}");
        Assert.Equal(HttpStatusCode.OK, await LedgerAsync(B, bob));

        // Audited once, where it was accepted.
        Assert.Contains(AuditLines.ReadWithoutPolicyChanges(A.AuditFile), l => l.Contains("\"class_uid\":3004", StringComparison.Ordinal));
        Assert.DoesNotContain(AuditLines.ReadWithoutPolicyChanges(B.AuditFile), l => l.Contains("\"class_uid\":3004", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ADeviceQuarantinedThroughOneGateway_IsRefusedAtAnother()
    {
        Assert.True(await AllConnectedAsync());
        var now = B.Time.GetUtcNow();
        var alice = _identity.User(now, "alice", ["finance-staff"]);
        var laptop = _devices.Posture(now, "laptop-7", "finance", user: "alice");
        Assert.Equal(HttpStatusCode.OK, await LedgerAsync(A, alice, laptop));

        var admin = _identity.User(now, "root", roles: ["ZtGatewayAdmin"]);
        var (status, _) = await B.AdminAsync(HttpMethod.Put, "/admin/quarantine/devices/laptop-7", admin, "{\"for\":\"2h\"}");
        Assert.Equal(200, status);

        Assert.True(await RefusedWithinAsync(A, alice, laptop) < Propagation);
        Assert.True(await RefusedWithinAsync(C, alice, laptop) < Propagation);

        (status, _) = await C.AdminAsync(HttpMethod.Delete, "/admin/quarantine/devices/laptop-7", admin);
        Assert.Equal(204, status);
        Assert.True(await ContinuousGateway.EventuallyAsync(async () => await LedgerAsync(A, alice, laptop) == HttpStatusCode.OK, Propagation * 2));
    }

    [Theory]
    [InlineData("credential-change", "token-revoked")]
    [InlineData("assurance-level-change", "auth-too-old")]
    [InlineData("device-compliance-change", "device-quarantined")]
    [InlineData("admin-principal-quarantine", "principal-quarantined")]
    public async Task EachKindOfChange_AcceptedByOneGateway_IsRefusedAtTheOthers_WithinASecond(string change, string reason)
    {
        Assert.True(await AllConnectedAsync());
        var now = A.Time.GetUtcNow();
        var alice = _identity.User(now, "alice", ["finance-staff"]);
        var laptop = _devices.Posture(now, "laptop-8", "finance", user: "alice");
        foreach (var gateway in _gateways)
        {
            Assert.Equal(HttpStatusCode.OK, await LedgerAsync(gateway, alice, laptop));
        }

        A.Time.Advance(TimeSpan.FromSeconds(5));
        var clock = Stopwatch.StartNew();
        var atB = AppliedAt(B, clock);
        var atC = AppliedAt(C, clock);
        var (status, body) = change switch
        {
            "device-compliance-change" => await A.PushAsync(_transmitter.DeviceEvent(A.Time.GetUtcNow(), "laptop-8", "not-compliant")),
            "admin-principal-quarantine" => await A.AdminAsync(HttpMethod.Put, "/admin/quarantine/principals/alice",
                _identity.User(A.Time.GetUtcNow(), "root", roles: ["ZtGatewayAdmin"]), "{\"for\":\"2h\"}"),
            _ => await A.PushAsync(_transmitter.UserEvent(A.Time.GetUtcNow(), change, "alice")),
        };
        Assert.True(status is 200 or 202, $"{status} {body}");

        foreach (var (gateway, applied) in new[] { (B, atB), (C, atC) })
        {
            // When the change was applied there, measured on the gateway itself, then what a request gets.
            var took = await applied.Task.WaitAsync(TimeSpan.FromSeconds(5));
            output.WriteLine($"{change} in force after {took.TotalMilliseconds:F0} ms");
            Assert.True(took < Propagation, $"{change} took {took}");
            using var finance = gateway.Client("finance");
            var answer = await Problem.SendAsync(finance, HttpMethod.Get, "/ledger/1", alice, r => r.Headers.Add("X-Device-Posture", laptop));
            Assert.Equal(reason, answer.Reason);
        }
    }

    // Completes with the clock's reading when the gateway applies a change of another gateway about alice or laptop-8.
    private static TaskCompletionSource<TimeSpan> AppliedAt(ContinuousGateway gateway, Stopwatch clock)
    {
        var applied = new TaskCompletionSource<TimeSpan>(TaskCreationOptions.RunContinuationsAsynchronously);
        gateway.Host.Continuous.RemoteApplied += record =>
        {
            if (record.Subject == "alice" || record.Id is "alice" or "laptop-8")
            {
                applied.TrySetResult(clock.Elapsed);
            }
        };
        return applied;
    }

    [Fact]
    public async Task TheSameSignal_IsAcceptedByOneGatewayOnly()
    {
        Assert.True(await AllConnectedAsync());
        var set = _transmitter.UserEvent(A.Time.GetUtcNow(), "session-revoked", "carol");

        Assert.Equal(202, (await A.PushAsync(set)).Status);
        var (status, body) = await B.PushAsync(set);

        Assert.Equal(400, status);
        Assert.Contains("already received", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WhileRedisIsDown_GatewaysKeepWhatTheyKnow_AndShareWhatTheyAcceptedWhenItIsBackEmpty()
    {
        Assert.True(await AllConnectedAsync());
        var now = A.Time.GetUtcNow();
        var alice = _identity.User(now, "alice", ["finance-staff"]);
        var dave = _identity.User(now, "dave", ["finance-staff"]);
        A.Time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(202, (await A.PushAsync(_transmitter.UserEvent(A.Time.GetUtcNow(), "session-revoked", "alice"))).Status);
        await RefusedWithinAsync(B, alice);

        await _redis.StopAsync();
        Assert.True(await ContinuousGateway.EventuallyAsync(async () =>
        {
            using var management = B.Management();
            using var ready = await management.GetAsync("/readyz");
            var body = await ready.Content.ReadAsStringAsync();
            return ready.StatusCode == HttpStatusCode.ServiceUnavailable && body.Contains("\"shared-state\"", StringComparison.Ordinal);
        }, TimeSpan.FromSeconds(10)), "readiness never named the lost shared state");
        Assert.Equal(HttpStatusCode.Unauthorized, await LedgerAsync(B, alice));

        // Accepted during the outage: in force here at once, at the others once Redis is back.
        C.Time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(202, (await C.PushAsync(_transmitter.UserEvent(C.Time.GetUtcNow(), "session-revoked", "dave"))).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, await LedgerAsync(C, dave));
        Assert.Equal(HttpStatusCode.OK, await LedgerAsync(A, dave));

        await _redis.RestartAsync(); // empty: no persistence
        Assert.True(await AllConnectedAsync());
        await RefusedWithinAsync(A, dave);
        await RefusedWithinAsync(B, dave);

        // A gateway that starts now, with an empty state directory, learns both from Redis alone.
        var late = await StartGatewayAsync();
        _gateways.Add(late);
        await RefusedWithinAsync(late, alice);
        await RefusedWithinAsync(late, dave);

        // One line for the loss and one for the return, not one per retry.
        Assert.Single(B.Logs, l => l.Contains("is unreachable", StringComparison.Ordinal));
        Assert.Equal(2, B.Logs.Count(l => l.Contains("is reachable; changes are shared", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task AGatewayStartedWhileRedisIsDown_Starts_ServesWhatItKnows_AndSharesOnceRedisIsThere()
    {
        Assert.True(await AllConnectedAsync());
        await _redis.StopAsync();

        var clock = Stopwatch.StartNew();
        var late = await StartGatewayAsync();
        _gateways.Add(late);
        output.WriteLine($"started without Redis in {clock.Elapsed.TotalMilliseconds:F0} ms");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"the start waited {clock.Elapsed} for Redis");
        using (var management = late.Management())
        using (var ready = await management.GetAsync("/readyz"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            Assert.Contains("\"shared-state\"", await ready.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        var frank = _identity.User(late.Time.GetUtcNow(), "frank", ["finance-staff"]);
        Assert.Equal(HttpStatusCode.OK, await LedgerAsync(late, frank));
        late.Time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(202, (await late.PushAsync(_transmitter.UserEvent(late.Time.GetUtcNow(), "session-revoked", "frank"))).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, await LedgerAsync(late, frank));
        Assert.True(await ContinuousGateway.EventuallyAsync(
            () => Task.FromResult(late.Logs.Any(l => l.Contains("is unreachable", StringComparison.Ordinal))), TimeSpan.FromSeconds(10)),
            "the outage at start was never logged");

        await _redis.RestartAsync();
        Assert.True(await AllConnectedAsync());
        await RefusedWithinAsync(A, frank);
        Assert.Single(late.Logs, l => l.Contains("is unreachable", StringComparison.Ordinal));
        Assert.Single(late.Logs, l => l.Contains("is reachable; changes are shared", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("intruder\nnot json")]
    [InlineData("intruder\n{\"type\":\"revoke\",\"iss\":\"https://idp.test\"}")]
    [InlineData("intruder\n{\"type\":\"delete-everything\"}")]
    [InlineData("intruder\n[1,2,3]")]
    [InlineData("no gateway name and no record")]
    [InlineData("\n{\"type\":\"revoke\"}")]
    [InlineData("oversized")]
    public async Task EntriesPlantedInRedis_ChangeNothing_AndAreCounted(string entry)
    {
        Assert.True(await AllConnectedAsync());
        var alice = _identity.User(A.Time.GetUtcNow(), "alice", ["finance-staff"]);

        if (entry == "oversized")
        {
            entry = "intruder\n{\"type\":\"revoke\",\"sub\":\"" + new string('a', 20_000) + "\"}";
        }

        // The inline protocol's double-quoted argument, with its escapes.
        var quoted = "\"" + entry.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)
            .Replace("\n", "\\n", StringComparison.Ordinal) + "\"";
        var length = await _redis.TryCommandAsync($"RPUSH {_prefix}:log {quoted}");
        Assert.NotNull(length);
        Assert.True(length!.StartsWith(':'), length);
        A.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(202, (await A.PushAsync(_transmitter.UserEvent(A.Time.GetUtcNow(), "session-revoked", "erin"))).Status);
        var erin = _identity.User(A.Time.GetUtcNow().AddSeconds(-5), "erin", ["finance-staff"]);
        await RefusedWithinAsync(B, erin); // B read past the planted entry

        Assert.Equal(HttpStatusCode.OK, await LedgerAsync(B, alice));
        Assert.Contains(B.Logs, l => l.Contains("not valid state records", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ARestartedGateway_ReadsOnFromWhereItStopped_AndReadsAllAgainWhenItsStateFileIsGone(bool deleteStateFile)
    {
        Assert.True(await AllConnectedAsync());
        A.Time.Advance(TimeSpan.FromSeconds(5));
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(202, (await A.PushAsync(_transmitter.UserEvent(A.Time.GetUtcNow(), "session-revoked", "user" + i))).Status);
        }

        var first = _identity.User(A.Time.GetUtcNow().AddSeconds(-5), "user0", ["finance-staff"]);
        await RefusedWithinAsync(B, _identity.User(A.Time.GetUtcNow().AddSeconds(-5), "user19", ["finance-staff"]));
        var before = File.ReadAllLines(B.StateFile).Length;

        await B.RestartAsync(deleteStateFile ? () => File.Delete(B.StateFile) : null);
        Assert.True(await AllConnectedAsync());
        A.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(202, (await A.PushAsync(_transmitter.UserEvent(A.Time.GetUtcNow(), "session-revoked", "late"))).Status);
        await RefusedWithinAsync(B, _identity.User(A.Time.GetUtcNow().AddSeconds(-5), "late", ["finance-staff"]));
        Assert.Equal(HttpStatusCode.Unauthorized, await LedgerAsync(B, first));

        var after = File.ReadAllLines(B.StateFile).Length;
        if (deleteStateFile)
        {
            // Nothing vouches for the saved position any more: the whole log is read into the new state file.
            Assert.True(after >= 21, $"{after} lines");
        }
        else
        {
            // The restart read on from its saved position: only the change made since is new in the state file.
            Assert.True(File.Exists(Path.Combine(Path.GetDirectoryName(B.StateFile)!, "ztgw-shared.json")));
            Assert.True(after <= before + 2, $"{before} lines before the restart, {after} after");
        }
    }

    [Theory]
    [InlineData("not-a-number")]
    [InlineData("-5")]
    public async Task APlantedLogBase_ChangesNothing_AndIsCounted(string value)
    {
        Assert.True(await AllConnectedAsync());
        Assert.Equal("+OK", await _redis.TryCommandAsync($"SET {_prefix}:log:base {value}"));
        A.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(202, (await A.PushAsync(_transmitter.UserEvent(A.Time.GetUtcNow(), "session-revoked", "erin"))).Status);
        var erin = _identity.User(A.Time.GetUtcNow().AddSeconds(-5), "erin", ["finance-staff"]);
        await RefusedWithinAsync(B, erin);
        Assert.Single(B.Logs, l => l.Contains(":log:base: 1 entries are not valid state records", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ALongHistory_IsCompacted_AndAGatewayThatStartsAfterwardsStillKnowsWhatIsInForce()
    {
        Assert.True(await AllConnectedAsync());
        var now = A.Time.GetUtcNow();
        var alice = _identity.User(now, "alice", ["finance-staff"]);
        var admin = _identity.User(now, "root", roles: ["ZtGatewayAdmin"]);
        A.Time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(202, (await A.PushAsync(_transmitter.UserEvent(A.Time.GetUtcNow(), "session-revoked", "alice"))).Status);

        // History: a device held and released over and over, then held for good.
        // Each change at its own instant, as on a real clock: a hold and a release of the same instant cannot be ordered
        // once they meet again in another gateway's summary.
        for (var i = 0; i < 30; i++)
        {
            B.Time.Advance(TimeSpan.FromSeconds(1));
            Assert.Equal(200, (await B.AdminAsync(HttpMethod.Put, "/admin/quarantine/devices/laptop-3", admin, "{\"for\":\"2h\"}")).Status);
            B.Time.Advance(TimeSpan.FromSeconds(1));
            Assert.Equal(204, (await B.AdminAsync(HttpMethod.Delete, "/admin/quarantine/devices/laptop-3", admin)).Status);
        }

        B.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(200, (await B.AdminAsync(HttpMethod.Put, "/admin/quarantine/devices/laptop-3", admin, "{\"for\":\"2h\"}")).Status);

        Assert.True(await ContinuousGateway.EventuallyAsync(async () =>
        {
            var length = await _redis.TryCommandAsync($"LLEN {_prefix}:log");
            return length is not null && long.Parse(length.TrimStart(':'), System.Globalization.CultureInfo.InvariantCulture) < CompactAbove;
        }, TimeSpan.FromSeconds(10)), "the log was never compacted");
        Assert.Contains(_gateways.SelectMany(g => g.Logs), l => l.Contains("compacted", StringComparison.Ordinal) && l.Contains(_prefix, StringComparison.Ordinal));

        var late = await StartGatewayAsync();
        _gateways.Add(late);
        var laptop = _devices.Posture(late.Time.GetUtcNow(), "laptop-3", "finance", user: "bob");
        var bob = _identity.User(late.Time.GetUtcNow(), "bob", ["finance-staff"]);
        await RefusedWithinAsync(late, alice);
        await RefusedWithinAsync(late, bob, laptop);
        Assert.Equal(HttpStatusCode.OK, await LedgerAsync(late, bob));
    }
}
