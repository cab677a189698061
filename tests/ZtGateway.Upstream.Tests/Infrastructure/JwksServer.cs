using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace ZtGateway.Upstream.Tests.Infrastructure;

/// <summary>
/// Serves a gateway's <c>/.well-known/ztgw/jwks.json</c> from a real Kestrel on 127.0.0.1, counting
/// fetches. What it publishes can be changed to model key rotation or an outage.
/// </summary>
public sealed class JwksServer : IAsyncDisposable
{
    public const string Path = "/.well-known/ztgw/jwks.json";

    private readonly WebApplication _app;
    private int _fetches;
    private volatile string _body = """{"keys":[]}""";
    private volatile int _status = StatusCodes.Status200OK;

    private JwksServer(WebApplication app) => _app = app;

    public Uri JwksUri { get; private set; } = null!;

    public int Fetches => Volatile.Read(ref _fetches);

    public static async Task<JwksServer> StartAsync(params GatewayKey[] keys)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var server = new JwksServer(app);
        server.Publish(keys);
        app.MapGet(Path, async context =>
        {
            Interlocked.Increment(ref server._fetches);
            context.Response.StatusCode = server._status;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(server._body);
        });
        await app.StartAsync();
        server.JwksUri = new Uri(app.Urls.First() + Path);
        return server;
    }

    /// <summary>Publishes exactly these keys (a rotation drops the old ones).</summary>
    public void Publish(params GatewayKey[] keys)
    {
        _body = JsonSerializer.Serialize(new { keys = keys.Select(key => key.PublicJwk).ToArray() });
        _status = StatusCodes.Status200OK;
    }

    /// <summary>Publishes a raw document, for malformed or hostile key sets.</summary>
    public void PublishRaw(string json)
    {
        _body = json;
        _status = StatusCodes.Status200OK;
    }

    /// <summary>Answers fetches with this status, modelling a gateway that is down.</summary>
    public void Fail(int status) => _status = status;

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
