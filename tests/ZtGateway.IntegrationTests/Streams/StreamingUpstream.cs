using System.Net;
using System.Net.WebSockets;
using System.Text;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ZtGateway.IntegrationTests.Streams;

/// <summary>
/// A real upstream of long-lived exchanges on 127.0.0.1: WebSockets (<c>/ws/echo</c> echoes every message,
/// <c>/ws/push</c> sends 64 KiB binary messages as fast as it can), server-sent events (<c>/events/ticks</c>, one event
/// every 50 ms) on an HTTP/1.1 port, and a gRPC service (<see cref="EchoService"/>) on an h2c port.
/// </summary>
public sealed class StreamingUpstream : IAsyncDisposable
{
    /// <summary>The size of each message of <c>/ws/push</c>.</summary>
    public const int PushMessageSize = 64 * 1024;

    private readonly WebApplication _app;

    private StreamingUpstream(WebApplication app) => _app = app;

    /// <summary>The HTTP/1.1 address (WebSockets, events).</summary>
    public string Http1Url { get; private set; } = string.Empty;

    /// <summary>The h2c address (gRPC).</summary>
    public string GrpcUrl { get; private set; } = string.Empty;

    /// <summary>gRPC calls cancelled by the gateway (the upstream saw its call end before it finished).</summary>
    public int CancelledCalls => EchoService.Cancelled;

    public static async Task<StreamingUpstream> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http1);
            kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2);
        });
        builder.Services.AddGrpc();
        var app = builder.Build();
        app.UseWebSockets();
        app.Map("/ws/echo", EchoAsync);
        app.Map("/ws/push", PushAsync);
        app.MapGet("/events/ticks", TicksAsync);
        app.MapGrpcService<EchoService>();
        await app.StartAsync();

        var upstream = new StreamingUpstream(app);
        var urls = app.Urls.ToArray();
        upstream.Http1Url = urls[0];
        upstream.GrpcUrl = urls[1];
        return upstream;
    }

    private static async Task EchoAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = 400;
            return;
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        var buffer = new byte[4096];
        while (socket.State == WebSocketState.Open)
        {
            WebSocketReceiveResult received;
            try
            {
                received = await socket.ReceiveAsync(buffer, context.RequestAborted);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
            {
                return;
            }

            if (received.MessageType == WebSocketMessageType.Close)
            {
                return;
            }

            await socket.SendAsync(buffer.AsMemory(0, received.Count), received.MessageType, received.EndOfMessage, context.RequestAborted);
        }
    }

    private static async Task PushAsync(HttpContext context)
    {
        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        var message = new byte[PushMessageSize];
        try
        {
            for (var i = 0; i < 100_000 && socket.State == WebSocketState.Open; i++)
            {
                message[0] = (byte)i;
                await socket.SendAsync(message, WebSocketMessageType.Binary, endOfMessage: true, context.RequestAborted);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
        {
        }
    }

    private static async Task TicksAsync(HttpContext context)
    {
        context.Response.ContentType = "text/event-stream";
        try
        {
            for (var i = 0; i < 2_000; i++)
            {
                await context.Response.WriteAsync($"data: tick {i}\n\n", context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
                await Task.Delay(50, context.RequestAborted);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>The gRPC service <c>echo.Echo</c>, defined by hand: UTF-8 strings as messages.</summary>
[BindServiceMethod(typeof(EchoService), nameof(BindService))]
public class EchoService
{
    private static int s_cancelled;

    public static readonly Marshaller<string> Text = Marshallers.Create(s => Encoding.UTF8.GetBytes(s), b => Encoding.UTF8.GetString(b));

    /// <summary><c>/echo.Echo/Say</c>: answers with the request.</summary>
    public static readonly Method<string, string> SayMethod = new(MethodType.Unary, "echo.Echo", "Say", Text, Text);

    /// <summary><c>/echo.Echo/Ticks</c>: a server stream of one message every 50 ms (at most 2 000).</summary>
    public static readonly Method<string, string> TicksMethod = new(MethodType.ServerStreaming, "echo.Echo", "Ticks", Text, Text);

    internal static int Cancelled => Volatile.Read(ref s_cancelled);

    public static void BindService(ServiceBinderBase binder, EchoService? service)
    {
        ArgumentNullException.ThrowIfNull(binder);
        binder.AddMethod(SayMethod, service is null ? null! : service.Say);
        binder.AddMethod(TicksMethod, service is null ? null! : service.Ticks);
    }

    public virtual Task<string> Say(string request, ServerCallContext context) => Task.FromResult(request);

    public virtual async Task Ticks(string request, IServerStreamWriter<string> responseStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(responseStream);
        ArgumentNullException.ThrowIfNull(context);
        try
        {
            for (var i = 0; i < 2_000; i++)
            {
                await responseStream.WriteAsync($"{request} {i}", context.CancellationToken);
                await Task.Delay(50, context.CancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
            Interlocked.Increment(ref s_cancelled);
        }
    }
}
