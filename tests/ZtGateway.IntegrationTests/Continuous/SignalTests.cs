using System.Net;
using System.Text.Json;
using ZtGateway.IntegrationTests.Infrastructure;

namespace ZtGateway.IntegrationTests.Continuous;

/// <summary>
/// Each CAEP event through a real gateway: allowed before the signal, refused on the very next request after
/// it, and still refused after the gateway restarts on the same state directory.
/// </summary>
public sealed class SignalTests : IAsyncLifetime
{
    private readonly TestIdentity _identity = new();
    private readonly TestTransmitter _transmitter = new();
    private readonly TestDevices _devices = new();
    private EchoUpstream _ledger = null!;
    private ContinuousGateway _gateway = null!;

    public async Task InitializeAsync()
    {
        _ledger = await EchoUpstream.StartAsync("ledger");
        _gateway = await ContinuousGateway.StartAsync(_identity, _transmitter,
            Topology.Standard(_ledger.Url, _ledger.Url, DateTimeOffset.UtcNow.AddDays(1)), _devices);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _ledger.DisposeAsync();
        _identity.Dispose();
        _transmitter.Dispose();
        _devices.Dispose();
    }

    private DateTimeOffset Now => _gateway.Time.GetUtcNow();

    private string Alice() => _identity.User(Now, "alice", ["finance-staff"]);

    private async Task<Problem> Ledger(string token, string path = "/ledger/1", string? posture = null)
    {
        using var finance = _gateway.Client("finance");
        return await Problem.SendAsync(finance, HttpMethod.Get, path, token,
            posture is null ? null : r => r.Headers.Add("X-Device-Posture", posture));
    }

    [Theory]
    [InlineData("session-revoked")]
    [InlineData("credential-change")]
    public async Task RevokingEvent_RefusesTokensIssuedBefore_EvenAfterARestart(string eventName)
    {
        var before = Alice();
        var bob = _identity.User(Now, "bob", ["finance-staff"]);
        Assert.Equal(HttpStatusCode.OK, (await Ledger(before)).Status);

        _gateway.Time.Advance(TimeSpan.FromSeconds(5));
        var (status, _) = await _gateway.PushAsync(_transmitter.UserEvent(Now, eventName, "alice"));
        Assert.Equal(202, status);

        var refused = await Ledger(before);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.Status);
        Assert.Equal("token-revoked", refused.Reason);
        Assert.Contains("error=\"invalid_token\"", refused.Challenge, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await Ledger(bob)).Status);

        // A login after the event is a new session and passes.
        _gateway.Time.Advance(TimeSpan.FromSeconds(5));
        var after = Alice();
        Assert.Equal(HttpStatusCode.OK, (await Ledger(after)).Status);

        await _gateway.RestartAsync();

        Assert.Equal("token-revoked", (await Ledger(before)).Reason);
        Assert.Equal(HttpStatusCode.OK, (await Ledger(after)).Status);
        Assert.Equal(HttpStatusCode.OK, (await Ledger(bob)).Status);
    }

    [Fact]
    public async Task AssuranceLevelChange_MakesTokensIssuedBeforeStepUp_EvenAfterARestart()
    {
        var before = Alice();
        Assert.Equal(HttpStatusCode.OK, (await Ledger(before)).Status);

        _gateway.Time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(202, (await _gateway.PushAsync(_transmitter.UserEvent(Now, "assurance-level-change", "alice"))).Status);

        var stepUp = await Ledger(before);
        Assert.Equal(HttpStatusCode.Unauthorized, stepUp.Status);
        Assert.Equal("auth-too-old", stepUp.Reason);
        Assert.Contains("insufficient_user_authentication", stepUp.Challenge, StringComparison.Ordinal);

        _gateway.Time.Advance(TimeSpan.FromSeconds(5));
        var fresh = _identity.User(Now, "alice", ["finance-staff"], authAge: TimeSpan.Zero);
        Assert.Equal(HttpStatusCode.OK, (await Ledger(fresh)).Status);

        await _gateway.RestartAsync();

        Assert.Equal("auth-too-old", (await Ledger(before)).Reason);
        Assert.Equal(HttpStatusCode.OK, (await Ledger(fresh)).Status);
    }

    [Fact]
    public async Task DeviceNotCompliant_QuarantinesTheDeviceUntilCompliant_EvenAcrossRestarts()
    {
        var alice = Alice();
        string Laptop(string id) => _devices.Posture(Now, id, "finance", user: "alice");
        Assert.Equal(HttpStatusCode.OK, (await Ledger(alice, "/vault/1", Laptop("laptop-7"))).Status);

        _gateway.Time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(202, (await _gateway.PushAsync(_transmitter.DeviceEvent(Now, "laptop-7", "not-compliant"))).Status);

        // The assertion the device carries still says compliant: the signal is newer and wins.
        var quarantined = await Ledger(alice, "/vault/1", Laptop("laptop-7"));
        Assert.Equal(HttpStatusCode.Forbidden, quarantined.Status);
        Assert.Equal("device-quarantined", quarantined.Reason);
        Assert.Equal(HttpStatusCode.OK, (await Ledger(alice, "/vault/1", Laptop("laptop-8"))).Status);

        await _gateway.RestartAsync();
        Assert.Equal("device-quarantined", (await Ledger(alice, "/vault/1", Laptop("laptop-7"))).Reason);

        _gateway.Time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(202, (await _gateway.PushAsync(_transmitter.DeviceEvent(Now, "laptop-7", "compliant"))).Status);
        Assert.Equal(HttpStatusCode.OK, (await Ledger(alice, "/vault/1", Laptop("laptop-7"))).Status);

        await _gateway.RestartAsync();
        Assert.Equal(HttpStatusCode.OK, (await Ledger(alice, "/vault/1", Laptop("laptop-7"))).Status);
    }

    [Theory]
    [InlineData("session-revoked")]
    [InlineData("credential-change")]
    public async Task AComplexSubjectWithASession_RevokesThatProviderSessionOnly(string eventName)
    {
        string InSession(string sid) => _identity.Sign(Now, new Dictionary<string, object>
        {
            ["sub"] = "alice", ["groups"] = new[] { "finance-staff" }, ["amr"] = new[] { "pwd", "mfa" }, ["sid"] = sid,
            ["auth_time"] = Now.AddMinutes(-5).ToUnixTimeSeconds(),
        });
        var laptop = InSession("op-session-1");
        var phone = InSession("op-session-2");
        _gateway.Time.Advance(TimeSpan.FromSeconds(5));
        var set = _transmitter.Set(Now, eventName, new Dictionary<string, object>
        {
            ["subject"] = new Dictionary<string, object>
            {
                ["format"] = "complex",
                ["user"] = TestTransmitter.User("alice"),
                ["session"] = new Dictionary<string, object> { ["format"] = "opaque", ["id"] = "op-session-1" },
            },
        });

        Assert.Equal(202, (await _gateway.PushAsync(set)).Status);

        Assert.Equal("token-revoked", (await Ledger(laptop)).Reason);
        Assert.Equal(HttpStatusCode.OK, (await Ledger(phone)).Status);
        var ztgw = AuditLines.ReadWithoutPolicyChanges(_gateway.AuditFile).Select(l => JsonDocument.Parse(l).RootElement)
            .Single(l => l.GetProperty("class_uid").GetInt32() == 3004).GetProperty("unmapped").GetProperty("ztgw");
        Assert.Equal(("session", "op-session-1"), (ztgw.GetProperty("target").GetString(), ztgw.GetProperty("id").GetString()));

        // A session member that cannot be read is refused, never widened into every session of the person.
        var unreadable = _transmitter.Set(Now, eventName, new Dictionary<string, object>
        {
            ["subject"] = new Dictionary<string, object>
            {
                ["format"] = "complex",
                ["user"] = TestTransmitter.User("alice"),
                ["session"] = new Dictionary<string, object> { ["format"] = "email", ["email"] = "alice@example.com" },
            },
        });
        Assert.Equal(400, (await _gateway.PushAsync(unreadable)).Status);
        Assert.Equal(HttpStatusCode.OK, (await Ledger(phone)).Status);
    }

    [Fact]
    public async Task ComplexSubjects_NameTheUserAndTheDevice()
    {
        var alice = Alice();
        _gateway.Time.Advance(TimeSpan.FromSeconds(5));
        var set = _transmitter.Set(Now, "session-revoked", new Dictionary<string, object>
        {
            ["subject"] = new Dictionary<string, object>
            {
                ["format"] = "complex",
                ["user"] = TestTransmitter.User("alice"),
                ["device"] = TestTransmitter.Device("laptop-7"),
            },
        });

        Assert.Equal(202, (await _gateway.PushAsync(set)).Status);
        Assert.Equal("token-revoked", (await Ledger(alice)).Reason);
    }

    [Fact]
    public async Task AcceptedSignals_AreAuditedAsStateChanges()
    {
        _gateway.Time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(202, (await _gateway.PushAsync(_transmitter.UserEvent(Now, "session-revoked", "alice"))).Status);

        var change = File.ReadAllLines(_gateway.AuditFile).Select(l => JsonDocument.Parse(l).RootElement)
            .Single(l => l.GetProperty("class_uid").GetInt32() == 3004 && !AuditLines.IsPolicyChange(l));
        Assert.Equal(TestTransmitter.Issuer, change.GetProperty("actor").GetProperty("user").GetProperty("uid").GetString());
        var ztgw = change.GetProperty("unmapped").GetProperty("ztgw");
        Assert.Equal("revoke", ztgw.GetProperty("change").GetString());
        Assert.Equal("alice", ztgw.GetProperty("sub").GetString());
        Assert.Equal("session-revoked", ztgw.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task CorruptTailOfTheStateFile_IsReportedAndSkipped_AndEarlierRevocationsStillApply()
    {
        var before = Alice();
        var bob = _identity.User(Now, "bob", ["finance-staff"]);
        _gateway.Time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(202, (await _gateway.PushAsync(_transmitter.UserEvent(Now, "session-revoked", "alice"))).Status);
        await _gateway.RestartAsync();

        // A write torn by a crash: half a line, no newline.
        await File.AppendAllTextAsync(_gateway.StateFile, "{\"type\":\"revoke\",\"iss\":\"https://idp.te");
        await _gateway.RestartAsync();

        Assert.Contains(_gateway.Logs, l => l.Contains("is unreadable and was skipped", StringComparison.Ordinal));
        Assert.Equal("token-revoked", (await Ledger(before)).Reason);

        // New changes still land on a line of their own and survive the next restart.
        Assert.Equal(202, (await _gateway.PushAsync(_transmitter.UserEvent(Now, "session-revoked", "bob"))).Status);
        await _gateway.RestartAsync();
        Assert.Equal("token-revoked", (await Ledger(before)).Reason);
        Assert.Equal("token-revoked", (await Ledger(bob)).Reason);
    }
}
