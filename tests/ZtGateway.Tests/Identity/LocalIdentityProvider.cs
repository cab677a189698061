using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ZtGateway.Tests.Identity;

/// <summary>
/// A real OpenID Provider on 127.0.0.1 serving discovery and a JWKS, which tests can stop, restart, rotate
/// keys on, or make hang.
/// </summary>
internal sealed class LocalIdentityProvider : IAsyncDisposable
{
    private static readonly string[] SigningAlgorithms = ["RS256", "ES256"];

    private WebApplication? _app;
    private int _discoveryRequests;
    private volatile string _jwks = "{\"keys\":[]}";

    /// <param name="port">A port reserved with <see cref="ReservePort"/>.</param>
    /// <param name="pathPrefix">Path of the authority below the host, e.g. <c>/{tenant}/v2.0</c>.</param>
    public LocalIdentityProvider(int port, string pathPrefix = "")
    {
        Port = port;
        PathPrefix = pathPrefix;
        AdvertisedIssuer = Authority;
    }

    public int Port { get; }

    public string PathPrefix { get; }

    public string BaseUrl => $"http://127.0.0.1:{Port}";

    public string Authority => BaseUrl + PathPrefix;

    /// <summary>The <c>issuer</c> the discovery document announces. Defaults to the authority.</summary>
    public string AdvertisedIssuer { get; set; }

    /// <summary>When true, discovery requests never answer.</summary>
    public bool Hang { get; set; }

    /// <summary>When set, discovery requests answer with this status.</summary>
    public int? FailWith { get; set; }

    public int DiscoveryRequests => Volatile.Read(ref _discoveryRequests);

    public void ServeKeys(params TestKey[] keys) => _jwks = TestKey.JwksJson(keys);

    public static int ReservePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    public static async Task<LocalIdentityProvider> StartNewAsync(string pathPrefix = "", params TestKey[] keys)
    {
        var provider = new LocalIdentityProvider(ReservePort(), pathPrefix);
        provider.ServeKeys(keys);
        await provider.StartAsync();
        return provider;
    }

    /// <summary>A quiet Kestrel app listening on <paramref name="url"/> (a loopback address), ready for its routes.</summary>
    public static WebApplication CreateApp(string url)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(2));
        builder.WebHost.UseUrls(url);
        return builder.Build();
    }

    public async Task StartAsync()
    {
        var app = CreateApp(BaseUrl);
        app.MapGet(PathPrefix + "/.well-known/openid-configuration", async (HttpContext context) =>
        {
            Interlocked.Increment(ref _discoveryRequests);
            if (Hang)
            {
                await Task.Delay(Timeout.Infinite, context.RequestAborted);
            }

            if (FailWith is { } status)
            {
                return Results.StatusCode(status);
            }

            return Results.Json(new Dictionary<string, object>
            {
                ["issuer"] = AdvertisedIssuer,
                ["jwks_uri"] = Authority + "/jwks",
                ["authorization_endpoint"] = Authority + "/authorize",
                ["token_endpoint"] = Authority + "/token",
                ["id_token_signing_alg_values_supported"] = SigningAlgorithms,
            });
        });
        app.MapGet(PathPrefix + "/jwks", () => Results.Text(_jwks, "application/json"));
        await app.StartAsync();
        _app = app;
    }

    public async Task StopAsync()
    {
        if (_app is { } app)
        {
            _app = null;
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync();
}
