using System.Diagnostics;
using Grpc.Core;
using Grpc.Net.Client;
using ZtGateway.IntegrationTests.Continuous;
using ZtGateway.IntegrationTests.Infrastructure;

namespace ZtGateway.IntegrationTests.Streams;

/// <summary>
/// A real gRPC client (Grpc.Net.Client) and server (Grpc.AspNetCore) through an h2c segment listener to an h2c upstream:
/// unary and server-streaming calls pass, refusals are gRPC statuses with the reason in <c>grpc-message</c>, and a
/// server stream ends with its status within 2 s of its caller's revocation or quarantine.
/// </summary>
public sealed class GrpcTests : IAsyncLifetime
{
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(2);

    private readonly TestIdentity _identity = new();
    private readonly TestTransmitter _transmitter = new();
    private StreamingUpstream _upstream = null!;
    private ContinuousGateway _gateway = null!;
    private GrpcChannel _channel = null!;

    public async Task InitializeAsync()
    {
        _upstream = await StreamingUpstream.StartAsync();
        _gateway = await ContinuousGateway.StartAsync(_identity, _transmitter, StreamSegments.For(_upstream));
        _channel = GrpcChannel.ForAddress(_gateway.Host.Listeners["ops"], new GrpcChannelOptions { HttpHandler = new SocketsHttpHandler() });
    }

    public async Task DisposeAsync()
    {
        _channel.Dispose();
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
        _identity.Dispose();
        _transmitter.Dispose();
    }

    private DateTimeOffset Now => _gateway.Time.GetUtcNow();

    private CallOptions As(string? token) => new(
        headers: token is null ? [] : new Metadata { { "authorization", "Bearer " + token } },
        deadline: DateTime.UtcNow.AddSeconds(20));

    private string Alice() => _identity.User(Now, "alice", ["staff"]);

    private Task<string> SayAsync(string path, string? token)
    {
        var (service, name) = (path.Split('/')[1], path.Split('/')[2]);
        var method = new Method<string, string>(MethodType.Unary, service, name, EchoService.Text, EchoService.Text);
        return _channel.CreateCallInvoker().AsyncUnaryCall(method, null, As(token), "hello").ResponseAsync;
    }

    [Fact]
    public async Task AUnaryCall_PassesThroughTheGateway()
    {
        Assert.Equal("hello", await SayAsync("/echo.Echo/Say", Alice()));
    }

    [Fact]
    public async Task AServerStream_PassesThroughTheGateway()
    {
        using var call = _channel.CreateCallInvoker().AsyncServerStreamingCall(EchoService.TicksMethod, null, As(Alice()), "tick");
        var ticks = new List<string>();
        while (ticks.Count < 3 && await call.ResponseStream.MoveNext(CancellationToken.None))
        {
            ticks.Add(call.ResponseStream.Current);
        }

        Assert.Equal(["tick 0", "tick 1", "tick 2"], ticks);
    }

    [Theory]
    [InlineData("/echo.Echo/Say", null, StatusCode.Unauthenticated, "token-missing")]
    [InlineData("/echo.Echo/Say", "not-a-token", StatusCode.Unauthenticated, "token-invalid")]
    [InlineData("/ops.Admin/Run", "alice", StatusCode.PermissionDenied, "segment-not-allowed")]
    [InlineData("/nothing.Here/Run", "alice", StatusCode.Unimplemented, "route-not-found")]
    [InlineData("/dead.Dead/Say", "alice", StatusCode.Unavailable, "upstream-unavailable")]
    public async Task ARefusal_IsAGrpcStatus_WithTheReason(string path, string? token, StatusCode status, string reason)
    {
        var bearer = token == "alice" ? Alice() : token;
        var refused = await Assert.ThrowsAsync<RpcException>(() => SayAsync(path, bearer));
        Assert.Equal(status, refused.StatusCode);
        Assert.Equal(reason, refused.Status.Detail);
        Assert.False(string.IsNullOrEmpty(refused.Trailers.GetValue("ztgw-decision-id")));
    }

    [Fact]
    public async Task ARefusal_IsAudited_WithTheStatusOfTheReasonTable()
    {
        await Assert.ThrowsAsync<RpcException>(() => SayAsync("/echo.Echo/Say", null));
        var line = Assert.Single(AuditLines.ReadWithoutPolicyChanges(_gateway.AuditFile));
        Assert.Contains("\"code\":401", line, StringComparison.Ordinal);
        Assert.Contains("\"status_detail\":\"token-missing\"", line, StringComparison.Ordinal);
    }

    private async Task<(RpcException Ended, TimeSpan After, int Ticks)> EndStreamAsync(Func<Task> end)
    {
        using var call = _channel.CreateCallInvoker().AsyncServerStreamingCall(EchoService.TicksMethod, null, As(Alice()), "tick");
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        var clock = Stopwatch.StartNew();
        await end();
        var ticks = 0;
        using var bound = new CancellationTokenSource(Within);
        var ended = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            while (await call.ResponseStream.MoveNext(bound.Token))
            {
                Assert.StartsWith("tick ", call.ResponseStream.Current, StringComparison.Ordinal);
                ticks++;
            }
        });
        return (ended, clock.Elapsed, ticks);
    }

    [Fact]
    public async Task AServerStream_EndsWithUnauthenticated_WhenItsCallerIsRevoked()
    {
        var (ended, after, ticks) = await EndStreamAsync(async () =>
            Assert.Equal(202, (await _gateway.PushAsync(_transmitter.UserEvent(Now, "session-revoked", "alice"))).Status));
        Assert.Equal(StatusCode.Unauthenticated, ended.StatusCode);
        Assert.Equal("token-revoked", ended.Status.Detail);
        Assert.True(after < Within, $"ended after {after} and {ticks} more messages");

        // The upstream call was cancelled, not left running.
        Assert.True(await ContinuousGateway.EventuallyAsync(() => Task.FromResult(_upstream.CancelledCalls > 0), TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task AServerStream_EndsWithPermissionDenied_WhenItsCallerIsQuarantined()
    {
        var admin = _identity.User(Now, "root", roles: ["ZtGatewayAdmin"]);
        var (ended, after, ticks) = await EndStreamAsync(async () =>
            Assert.Equal(200, (await _gateway.AdminAsync(HttpMethod.Put, "/admin/quarantine/principals/alice", admin, """{"for":"1h"}""")).Status));
        Assert.Equal(StatusCode.PermissionDenied, ended.StatusCode);
        Assert.Equal("principal-quarantined", ended.Status.Detail);
        Assert.True(after < Within, $"ended after {after} and {ticks} more messages");
    }
}
