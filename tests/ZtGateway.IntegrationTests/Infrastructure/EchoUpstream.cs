using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace ZtGateway.IntegrationTests.Infrastructure;

/// <summary>A real upstream on 127.0.0.1 that records every request it receives and echoes it.</summary>
public sealed class EchoUpstream : IAsyncDisposable
{
    private readonly WebApplication _app;

    private EchoUpstream(WebApplication app, string name)
    {
        _app = app;
        Name = name;
    }

    public string Name { get; }

    public string Url { get; private set; } = string.Empty;

    public ConcurrentQueue<RecordedRequest> Requests { get; } = new();

    /// <summary>Starts on a free loopback port; <paramref name="listen"/>, when given, configures that endpoint (TLS, protocols).</summary>
    public static async Task<EchoUpstream> StartAsync(string name = "upstream", Action<Microsoft.AspNetCore.Server.Kestrel.Core.ListenOptions>? listen = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        if (listen is null)
        {
            builder.WebHost.UseUrls("http://127.0.0.1:0");
        }
        else
        {
            builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(System.Net.IPAddress.Loopback, 0, listen));
        }

        var app = builder.Build();
        var upstream = new EchoUpstream(app, name);
        app.Run(async context =>
        {
            var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
            upstream.Requests.Enqueue(new RecordedRequest(context.Request.Method, context.Request.Path.Value ?? string.Empty, headers)
            {
                RawTarget = context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()?.RawTarget ?? string.Empty,
                Protocol = context.Request.Protocol,
                ClientCertificateSubject = context.Connection.ClientCertificate?.Subject,
            });
            await context.Response.WriteAsJsonAsync(new { service = name, path = context.Request.Path.Value, method = context.Request.Method });
        });
        await app.StartAsync();
        upstream.Url = app.Urls.First();
        return upstream;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

public sealed record RecordedRequest(string Method, string Path, IReadOnlyDictionary<string, string> Headers)
{
    /// <summary>The request target exactly as the upstream received it.</summary>
    public string RawTarget { get; init; } = string.Empty;

    /// <summary>The HTTP version the request arrived with (<c>HTTP/1.1</c>, <c>HTTP/2</c>).</summary>
    public string Protocol { get; init; } = string.Empty;

    /// <summary>The subject of the client certificate the caller presented, if any.</summary>
    public string? ClientCertificateSubject { get; init; }
}
