using System.Net;
using System.Text.Json;
using ZtGateway.IntegrationTests.Infrastructure;

namespace ZtGateway.IntegrationTests.Continuous;

/// <summary>SETs that must not be believed are refused with 400 and an RFC 8935 error, and change nothing.</summary>
public sealed class SignalRefusalTests : IAsyncLifetime
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

    private async Task<HttpStatusCode> AliceOnVault(string token, string device = "laptop-7")
    {
        using var finance = _gateway.Client("finance");
        var posture = _devices.Posture(Now, device, "finance", user: "alice");
        return (await Problem.SendAsync(finance, HttpMethod.Get, "/vault/1", token, r => r.Headers.Add("X-Device-Posture", posture))).Status;
    }

    private string BadSet(string kind) => kind switch
    {
        "forged" => _transmitter.UserEvent(Now, "session-revoked", "alice", key: _transmitter.ForgedKey),
        "unsigned" => TestTransmitter.Unsigned(Now, "session-revoked", "alice"),
        "wrong-audience" => _transmitter.UserEvent(Now, "session-revoked", "alice", audience: "someone-else"),
        "unknown-issuer" => _transmitter.UserEvent(Now, "session-revoked", "alice", issuer: "https://rogue.test"),
        "expired" => _transmitter.Set(Now, "session-revoked", new Dictionary<string, object> { ["subject"] = TestTransmitter.User("alice") },
            expires: Now.AddMinutes(-5)),
        "too-old" => _transmitter.UserEvent(Now.AddMinutes(-30), "session-revoked", "alice"),
        "not-a-set" => _transmitter.Set(Now, "session-revoked", new Dictionary<string, object> { ["subject"] = TestTransmitter.User("alice") }, typ: "JWT"),
        "no-subject" => _transmitter.Set(Now, "session-revoked", new Dictionary<string, object> { ["event_timestamp"] = Now.ToUnixTimeSeconds() }),
        "garbage" => "this is not a token",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    [Theory]
    [InlineData("forged", "invalid_key")]
    [InlineData("unsigned", "invalid_key")]
    [InlineData("wrong-audience", "invalid_audience")]
    [InlineData("unknown-issuer", "invalid_issuer")]
    [InlineData("expired", "invalid_request")]
    [InlineData("too-old", "invalid_request")]
    [InlineData("not-a-set", "invalid_request")]
    [InlineData("no-subject", "invalid_request")]
    [InlineData("garbage", "invalid_request")]
    public async Task UntrustworthySet_IsRefusedWith400_AndChangesNothing(string kind, string error)
    {
        var alice = _identity.User(Now, "alice", ["finance-staff"]);
        var stateBefore = await File.ReadAllTextAsync(_gateway.StateFile);
        _gateway.Time.Advance(TimeSpan.FromSeconds(5));

        var (status, body) = await _gateway.PushAsync(BadSet(kind));

        Assert.Equal(400, status);
        using var json = JsonDocument.Parse(body);
        Assert.Equal(error, json.RootElement.GetProperty("err").GetString());
        Assert.False(string.IsNullOrEmpty(json.RootElement.GetProperty("description").GetString()));
        Assert.Equal(HttpStatusCode.OK, await AliceOnVault(alice));
        Assert.Equal(stateBefore, await File.ReadAllTextAsync(_gateway.StateFile));
        await _gateway.RestartAsync();
        Assert.Equal(HttpStatusCode.OK, await AliceOnVault(alice));
    }

    [Fact]
    public async Task WrongContentType_IsRefused()
    {
        var alice = _identity.User(Now, "alice", ["finance-staff"]);
        _gateway.Time.Advance(TimeSpan.FromSeconds(5));

        var (status, body) = await _gateway.PushAsync(_transmitter.UserEvent(Now, "session-revoked", "alice"), "application/jwt");

        Assert.Equal(400, status);
        Assert.Contains("invalid_request", body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, await AliceOnVault(alice));
    }

    [Fact]
    public async Task ReplayedSet_IsRefused_AndCannotUndoALaterEvent_EvenAfterARestart()
    {
        var alice = _identity.User(Now, "alice", ["finance-staff"]);
        var compliant = _transmitter.DeviceEvent(Now, "laptop-7", "compliant");
        Assert.Equal(202, (await _gateway.PushAsync(compliant)).Status);
        _gateway.Time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(202, (await _gateway.PushAsync(_transmitter.DeviceEvent(Now, "laptop-7", "not-compliant"))).Status);
        Assert.Equal(HttpStatusCode.Forbidden, await AliceOnVault(alice));

        var (status, body) = await _gateway.PushAsync(compliant);
        Assert.Equal(400, status);
        Assert.Contains("invalid_request", body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, await AliceOnVault(alice));

        await _gateway.RestartAsync();
        Assert.Equal(400, (await _gateway.PushAsync(compliant)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, await AliceOnVault(alice));
    }

    [Fact]
    public async Task OlderEventDeliveredLate_DoesNotUndoANewerOne()
    {
        var alice = _identity.User(Now, "alice", ["finance-staff"]);
        var earlier = Now;
        _gateway.Time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(202, (await _gateway.PushAsync(_transmitter.DeviceEvent(Now, "laptop-7", "not-compliant"))).Status);

        Assert.Equal(202, (await _gateway.PushAsync(_transmitter.DeviceEvent(earlier, "laptop-7", "compliant"))).Status);

        Assert.Equal(HttpStatusCode.Forbidden, await AliceOnVault(alice));
    }
}
