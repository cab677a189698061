using System.Net;
using System.Net.WebSockets;
using ZtGateway.IntegrationTests.Continuous;
using ZtGateway.IntegrationTests.Identity;
using ZtGateway.IntegrationTests.Infrastructure;
using ZtGateway.IntegrationTests.Streams;

namespace ZtGateway.IntegrationTests.Device;

/// <summary>
/// A posture pushed to one gateway is the device's posture at the others of the deployment: two gateway hosts on one real
/// redis-server, each with its own state directory and its own mTLS listener.
/// </summary>
public sealed class DeviceCertificateSharedTests : IAsyncLifetime
{
    private const string Laptop = "urn:device:laptop-9";

    private readonly TestIdentity _identity = new();
    private readonly TestTransmitter _transmitter = new();
    private readonly TestDevices _devices = new();
    private readonly WorkloadPki _pki = new();
    private readonly string _prefix = "ztgw-devices-" + Guid.NewGuid().ToString("N")[..8];
    private RedisServer _redis = null!;
    private EchoUpstream _payroll = null!;
    private StreamingUpstream _live = null!;
    private ContinuousGateway _a = null!;
    private ContinuousGateway _b = null!;

    public async Task InitializeAsync()
    {
        _redis = await RedisServer.StartAsync();
        _payroll = await EchoUpstream.StartAsync("payroll");
        _live = await StreamingUpstream.StartAsync();
        var shared = $"  sharedState:\n    redis: \"{_redis.Configuration},connectTimeout=1000\"\n    prefix: {_prefix}\n";
        _a = await DeviceCertificateTests.StartAsync(_identity, _transmitter, _devices, _pki, _payroll, shared, _live);
        _b = await DeviceCertificateTests.StartAsync(_identity, _transmitter, _devices, _pki, _payroll, shared, _live);
    }

    public async Task DisposeAsync()
    {
        await _a.DisposeAsync();
        await _b.DisposeAsync();
        await _payroll.DisposeAsync();
        await _live.DisposeAsync();
        await _redis.DisposeAsync();
        _pki.Dispose();
        _identity.Dispose();
        _transmitter.Dispose();
        _devices.Dispose();
    }

    [Fact]
    public async Task APosturePushedToOneGateway_IsTheDevicesPostureAtTheOther_AndSoIsTheNoncompliantOneAfterIt()
    {
        var now = _a.Time.GetUtcNow();
        Assert.Equal(HttpStatusCode.Forbidden, await PayrollAsync(_b));
        Assert.Equal(HttpStatusCode.Accepted, (await DeviceCertificateTests.PushAsync(_a, _devices.Posture(now, Laptop, "finance"))).Status);

        Assert.True(await ContinuousGateway.EventuallyAsync(async () => await PayrollAsync(_b) == HttpStatusCode.OK, TimeSpan.FromSeconds(5)),
            "the posture pushed to gateway A never reached gateway B");

        Assert.Equal(HttpStatusCode.Accepted,
            (await DeviceCertificateTests.PushAsync(_b, _devices.Posture(now, Laptop, "finance", compliant: false, issuedAt: now.AddSeconds(5)))).Status);

        Assert.True(await ContinuousGateway.EventuallyAsync(async () => await PayrollAsync(_a) == HttpStatusCode.Forbidden, TimeSpan.FromSeconds(5)),
            "the non-compliant posture pushed to gateway B never reached gateway A");
        Assert.Equal(HttpStatusCode.Forbidden, await PayrollAsync(_b));
    }

    [Fact]
    public async Task AWebSocketOpenAtOneGateway_IsClosed_WhenANoncompliantPostureIsPushedToTheOther()
    {
        const string Desktop = "urn:device:desktop-4";
        var now = _a.Time.GetUtcNow();
        Assert.Equal(HttpStatusCode.Accepted, (await DeviceCertificateTests.PushAsync(_a, _devices.Posture(now, Desktop, "finance"))).Status);
        using var desktop = _pki.MdmDevice(Desktop);
        var token = _identity.User(now, "alice", groups: ["finance-staff"]);
        Assert.True(await ContinuousGateway.EventuallyAsync(async () =>
        {
            using var client = _pki.Client(_b.Host.Listeners["hr"], desktop);
            return (await Problem.SendAsync(client, HttpMethod.Get, "/payroll/1", token)).Status == HttpStatusCode.OK;
        }, TimeSpan.FromSeconds(5)), "the posture pushed to gateway A never reached gateway B");
        using var socket = await DeviceCertificateTests.ConnectAsync(_b, _pki, desktop, token);

        // Gateway B has never verified this push: it verifies it when it arrives through Redis, then closes the socket.
        Assert.Equal(HttpStatusCode.Accepted,
            (await DeviceCertificateTests.PushAsync(_a, _devices.Posture(now, Desktop, "finance", compliant: false, issuedAt: now.AddSeconds(1)))).Status);
        using var within = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        var closed = await socket.ReceiveAsync(new byte[1024], within.Token);

        Assert.Equal(WebSocketMessageType.Close, closed.MessageType);
        Assert.Equal((WebSocketCloseStatus.PolicyViolation, "device-noncompliant"), (socket.CloseStatus, socket.CloseStatusDescription));
    }

    private async Task<HttpStatusCode> PayrollAsync(ContinuousGateway gateway)
    {
        using var client = _pki.Client(gateway.Host.Listeners["hr"], _pki.MdmDevice(Laptop));
        var token = _identity.User(gateway.Time.GetUtcNow(), "alice", groups: ["finance-staff"]);
        return (await Problem.SendAsync(client, HttpMethod.Get, "/payroll/2026-11", token)).Status;
    }
}
