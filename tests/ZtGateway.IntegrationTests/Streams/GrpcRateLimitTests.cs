using Grpc.Core;
using Grpc.Net.Client;
using ZtGateway.IntegrationTests.Infrastructure;

namespace ZtGateway.IntegrationTests.Streams;

/// <summary>
/// The refusal limiter's answer in gRPC form: a source that used up its refusals (gateway.limits) gets RESOURCE_EXHAUSTED
/// with <c>rate-limited</c> in <c>grpc-message</c>, before any credential is looked at, as a plain caller gets 429.
/// </summary>
public sealed class GrpcRateLimitTests : IAsyncLifetime
{
    private readonly TestIdentity _identity = new();
    private StreamingUpstream _upstream = null!;
    private TestGateway _gateway = null!;

    public async Task InitializeAsync()
    {
        _upstream = await StreamingUpstream.StartAsync();
        var yaml = TestGateway.DefaultGatewayYaml.Replace("gateway:\n", "gateway:\n  limits: { refusalsPerSource: 1/m, refusalBurst: 2 }\n",
            StringComparison.Ordinal);
        Assert.Contains("refusalBurst: 2", yaml, StringComparison.Ordinal);
        _gateway = await TestGateway.StartAsync(_identity, StreamSegments.For(_upstream), yaml);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
        _identity.Dispose();
    }

    [Fact]
    public async Task ASourceOverItsRefusals_GetsResourceExhausted()
    {
        using var channel = GrpcChannel.ForAddress(_gateway.Listener("ops"), new GrpcChannelOptions { HttpHandler = new SocketsHttpHandler() });
        var answers = new List<(StatusCode Status, string Detail)>();
        for (var i = 0; i < 4; i++)
        {
            var refused = await Assert.ThrowsAsync<RpcException>(() => channel.CreateCallInvoker()
                .AsyncUnaryCall(EchoService.SayMethod, null, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(20)), "hello").ResponseAsync);
            answers.Add((refused.StatusCode, refused.Status.Detail));
        }

        // The burst of refusals is answered for what it is; once it is spent, the source is limited.
        Assert.Equal((StatusCode.Unauthenticated, "token-missing"), answers[0]);
        Assert.Equal((StatusCode.ResourceExhausted, "rate-limited"), answers[^1]);
    }
}
