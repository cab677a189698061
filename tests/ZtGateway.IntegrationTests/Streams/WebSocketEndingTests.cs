using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using ZtGateway.IntegrationTests.Continuous;
using ZtGateway.IntegrationTests.Infrastructure;

namespace ZtGateway.IntegrationTests.Streams;

/// <summary>
/// WebSockets through a segment listener to a real Kestrel WebSocket upstream: they pass after the decision, and are
/// closed with 1008 and the reason within 2 s when their caller is revoked, their device quarantined or their token
/// expires; each ending is audited.
/// </summary>
public sealed class WebSocketEndingTests : IAsyncLifetime
{
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(2);

    private readonly TestIdentity _identity = new();
    private readonly TestTransmitter _transmitter = new();
    private readonly TestDevices _devices = new();
    private StreamingUpstream _upstream = null!;
    private ContinuousGateway _gateway = null!;

    public async Task InitializeAsync()
    {
        _upstream = await StreamingUpstream.StartAsync();
        _gateway = await ContinuousGateway.StartAsync(_identity, _transmitter, StreamSegments.For(_upstream), _devices);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
        _identity.Dispose();
        _transmitter.Dispose();
        _devices.Dispose();
    }

    private DateTimeOffset Now => _gateway.Time.GetUtcNow();

    private string Admin() => _identity.User(Now, "root", roles: ["ZtGatewayAdmin"]);

    private async Task<ClientWebSocket> ConnectAsync(string path, string sub = "alice", string? device = null, TimeSpan? lifetime = null,
        bool http2 = false, TimeSpan? deviceLifetime = null)
    {
        var socket = new ClientWebSocket();
        if (http2)
        {
            // RFC 8441: a WebSocket over an HTTP/2 stream (extended CONNECT), here on the h2c listener.
            socket.Options.HttpVersion = System.Net.HttpVersion.Version20;
            socket.Options.HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact;
        }

        socket.Options.SetRequestHeader("Authorization", "Bearer " + _identity.User(Now, sub, ["staff"], lifetime: lifetime));
        if (device is not null)
        {
            socket.Options.SetRequestHeader("X-Device-Posture", _devices.Posture(Now, device, "finance", user: sub, lifetime: deviceLifetime));
        }

        var listener = _gateway.Host.Listeners[http2 ? "ops" : "finance"];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        using var invoker = new HttpMessageInvoker(new SocketsHttpHandler());
        await socket.ConnectAsync(new Uri($"ws://{listener.Authority}{path}"), http2 ? invoker : null, timeout.Token);
        return socket;
    }

    private static async Task<string> EchoAsync(ClientWebSocket socket, string text)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, endOfMessage: true, timeout.Token);
        var buffer = new byte[1024];
        var received = await socket.ReceiveAsync(buffer, timeout.Token);
        return Encoding.UTF8.GetString(buffer, 0, received.Count);
    }

    // Reads until the close frame; every message before it must be whole. Fails if it does not come within the bound.
    private static async Task<(WebSocketCloseStatus? Status, string? Reason, int Messages)> ReadUntilCloseAsync(ClientWebSocket socket,
        int messageSize = -1)
    {
        using var bound = new CancellationTokenSource(Within);
        var buffer = new byte[128 * 1024];
        var messages = 0;
        var length = 0;
        while (true)
        {
            var received = await socket.ReceiveAsync(buffer.AsMemory(length), bound.Token);
            if (received.MessageType == WebSocketMessageType.Close)
            {
                Assert.Equal(0, length);
                return (socket.CloseStatus, socket.CloseStatusDescription, messages);
            }

            length += received.Count;
            if (received.EndOfMessage)
            {
                if (messageSize >= 0)
                {
                    Assert.Equal(messageSize, length);
                }

                messages++;
                length = 0;
            }
        }
    }

    private JsonElement EndingLine(string reason)
    {
        var lines = File.ReadAllLines(_gateway.AuditFile).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        return Assert.Single(lines, l => l.TryGetProperty("unmapped", out var u) && u.GetProperty("ztgw").TryGetProperty("ended", out _)
            && u.GetProperty("ztgw").GetProperty("reason").GetString() == reason);
    }

    private string DecisionIdOfUpgrade()
    {
        var lines = File.ReadAllLines(_gateway.AuditFile).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var upgrade = Assert.Single(lines, l => l.TryGetProperty("http_response", out var r) && r.GetProperty("code").GetInt32() == 101
            && l.GetProperty("action_id").GetInt32() == 1);
        return upgrade.GetProperty("metadata").GetProperty("uid").GetString()!;
    }

    [Fact]
    public async Task AnEcho_Works_AndASessionRevokedSignal_ClosesIt_With1008AndTheReason()
    {
        using var socket = await ConnectAsync("/ws/echo");
        Assert.Equal("hello", await EchoAsync(socket, "hello"));
        Assert.Equal("again", await EchoAsync(socket, "again"));

        var clock = Stopwatch.StartNew();
        Assert.Equal(202, (await _gateway.PushAsync(_transmitter.UserEvent(Now, "session-revoked", "alice"))).Status);
        var (status, reason, _) = await ReadUntilCloseAsync(socket);
        clock.Stop();

        Assert.Equal(WebSocketCloseStatus.PolicyViolation, status);
        Assert.Equal("token-revoked", reason);
        Assert.True(clock.Elapsed < Within, $"closed after {clock.Elapsed}");

        var line = EndingLine("token-revoked");
        Assert.Equal(24, line.GetProperty("disposition_id").GetInt32());
        Assert.Equal(DecisionIdOfUpgrade(), line.GetProperty("unmapped").GetProperty("ztgw").GetProperty("decision_id").GetString());
        Assert.Equal("websocket", line.GetProperty("unmapped").GetProperty("ztgw").GetProperty("exchange").GetString());
        Assert.Equal("close", line.GetProperty("unmapped").GetProperty("ztgw").GetProperty("ending").GetString());
        Assert.Equal("/ws/echo", line.GetProperty("http_request").GetProperty("url").GetProperty("path").GetString());
        Assert.Equal("alice", line.GetProperty("actor").GetProperty("user").GetProperty("uid").GetString());
    }

    [Fact]
    public async Task AnotherCallersSocket_StaysOpen_WhenOneCallerIsRevoked()
    {
        using var alice = await ConnectAsync("/ws/echo");
        using var bob = await ConnectAsync("/ws/echo", "bob");
        Assert.Equal(202, (await _gateway.PushAsync(_transmitter.UserEvent(Now, "session-revoked", "alice"))).Status);
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, (await ReadUntilCloseAsync(alice)).Status);
        Assert.Equal("still here", await EchoAsync(bob, "still here"));
    }

    [Fact]
    public async Task AQuarantinedDevice_ClosesItsSocket_BetweenTwoMessages_OfAStreamThatNeverPauses()
    {
        using var socket = await ConnectAsync("/ws/push", device: "laptop-7");

        // Large messages keep coming: the close frame can only be put between two of them.
        var buffer = new byte[StreamingUpstream.PushMessageSize];
        using (var first = new CancellationTokenSource(TimeSpan.FromSeconds(10)))
        {
            var received = await socket.ReceiveAsync(buffer, first.Token);
            Assert.Equal(WebSocketMessageType.Binary, received.MessageType);
        }

        var clock = Stopwatch.StartNew();
        var (put, _) = await _gateway.AdminAsync(HttpMethod.Put, "/admin/quarantine/devices/laptop-7", Admin(), """{"for":"1h","reason":"malware"}""");
        Assert.Equal(200, put);

        // The rest of the message being read, then whole messages only, then the close frame.
        using var bound = new CancellationTokenSource(Within);
        var tail = 0;
        while (true)
        {
            var received = await socket.ReceiveAsync(buffer, bound.Token);
            Assert.NotEqual(WebSocketMessageType.Close, received.MessageType);
            if (received.EndOfMessage)
            {
                break;
            }

            tail += received.Count;
        }

        var (status, reason, messages) = await ReadUntilCloseAsync(socket, StreamingUpstream.PushMessageSize);
        clock.Stop();
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, status);
        Assert.Equal("device-quarantined", reason);
        Assert.True(clock.Elapsed < Within, $"closed after {clock.Elapsed} and {messages} more messages");
        Assert.Equal("laptop-7", EndingLine("device-quarantined").GetProperty("device").GetProperty("uid").GetString());
    }

    [Fact]
    public async Task TheTokenExpiring_ClosesTheSocket()
    {
        using var socket = await ConnectAsync("/ws/echo", lifetime: TimeSpan.FromMinutes(2));
        Assert.Equal("hello", await EchoAsync(socket, "hello"));

        // Still valid within the clock skew (60 s): a new request with that token would pass too.
        _gateway.Time.Advance(TimeSpan.FromMinutes(2) + TimeSpan.FromSeconds(30));
        Assert.Equal("within skew", await EchoAsync(socket, "within skew"));

        _gateway.Time.Advance(TimeSpan.FromSeconds(32));
        var (status, reason, _) = await ReadUntilCloseAsync(socket);
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, status);
        Assert.Equal("token-expired", reason);
        Assert.Equal("token-expired", EndingLine("token-expired").GetProperty("status_detail").GetString());
    }

    [Fact]
    public async Task TheDeviceAssertionExpiring_ClosesTheSocket()
    {
        using var socket = await ConnectAsync("/ws/echo", device: "laptop-7", deviceLifetime: TimeSpan.FromMinutes(2));
        Assert.Equal("hello", await EchoAsync(socket, "hello"));

        // Within the clock skew a new request with that assertion would still pass, and so does the open socket.
        _gateway.Time.Advance(TimeSpan.FromMinutes(2) + TimeSpan.FromSeconds(30));
        Assert.Equal("within skew", await EchoAsync(socket, "within skew"));

        _gateway.Time.Advance(TimeSpan.FromSeconds(32));
        var (status, reason, _) = await ReadUntilCloseAsync(socket);
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, status);
        Assert.Equal("device-invalid", reason);
        Assert.Equal("laptop-7", EndingLine("device-invalid").GetProperty("device").GetProperty("uid").GetString());
    }

    [Fact]
    public async Task AWebSocketOverHttp2_IsClosedToo()
    {
        using var socket = await ConnectAsync("/ws/echo", http2: true);
        Assert.Equal("over h2", await EchoAsync(socket, "over h2"));
        Assert.Equal(202, (await _gateway.PushAsync(_transmitter.UserEvent(Now, "session-revoked", "alice"))).Status);
        var (status, reason, _) = await ReadUntilCloseAsync(socket);
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, status);
        Assert.Equal("token-revoked", reason);
    }

    [Fact]
    public async Task APolicyReload_ThatNoLongerAllowsTheCaller_ClosesTheSocket()
    {
        using var socket = await ConnectAsync("/ws/echo");
        Assert.Equal("hello", await EchoAsync(socket, "hello"));

        var file = Path.Combine(_gateway.Directory, "segments", "finance.yaml");
        await File.WriteAllTextAsync(file, (await File.ReadAllTextAsync(file)).Replace(
            "- { name: staff, from: [finance], users: { groups: [staff] } }\n  - id: events",
            "- { name: staff, from: [finance], users: { groups: [auditors] } }\n  - id: events", StringComparison.Ordinal));
        Assert.True((await _gateway.Host.ReloadAsync()).Succeeded);

        var (status, reason, _) = await ReadUntilCloseAsync(socket);
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, status);
        Assert.Equal("no-matching-rule", reason);
    }
}
