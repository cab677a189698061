using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Time.Testing;
using ZtGateway.SampleService;

namespace ZtGateway.Upstream.Tests.Infrastructure;

/// <summary>
/// The sample upstream on a real Kestrel (127.0.0.1:0), fed by a real JWKS server, with a fake clock
/// shared by the minted assertions and the service.
/// </summary>
public sealed class SampleServiceHost : IAsyncDisposable
{
    public const string Header = "X-ZT-Assertion";

    private readonly WebApplication _app;

    private SampleServiceHost(WebApplication app, JwksServer jwks, GatewayKey key, FakeTimeProvider time, HttpClient client)
    {
        _app = app;
        Jwks = jwks;
        Key = key;
        Time = time;
        Client = client;
    }

    public JwksServer Jwks { get; }

    /// <summary>The gateway's current signing key, published by <see cref="Jwks"/> at start.</summary>
    public GatewayKey Key { get; }

    public FakeTimeProvider Time { get; }

    public HttpClient Client { get; }

    public static async Task<SampleServiceHost> StartAsync(string service = AssertionMinter.Service, params string[] extraArgs)
    {
        var key = new GatewayKey("gw-1");
        var jwks = await JwksServer.StartAsync(key);
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 3, 1, 9, 0, 0, TimeSpan.Zero));
        string[] args =
        [
            "--urls", "http://127.0.0.1:0",
            "--service", service,
            "--gateway-jwks", jwks.JwksUri.ToString(),
            "--Logging:LogLevel:Default", "Warning",
            .. extraArgs,
        ];
        var app = SampleServiceApp.Build(args, options => options.TimeProvider = time);
        await app.StartAsync();
        var client = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
        return new SampleServiceHost(app, jwks, key, time, client);
    }

    /// <summary>An assertion from the gateway's current key, issued now, optionally edited.</summary>
    public string Mint(Action<Dictionary<string, object>>? edit = null) => AssertionMinter.Mint(Key, Time.GetUtcNow(), edit);

    public Task<HttpResponseMessage> SendAsync(string? assertion, string path = "/payroll/slips", HttpMethod? method = null)
    {
        var request = new HttpRequestMessage(method ?? HttpMethod.Get, path);
        if (assertion is not null)
        {
            request.Headers.TryAddWithoutValidation(Header, assertion);
        }

        return Client.SendAsync(request);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        await Jwks.DisposeAsync();
        Key.Dispose();
    }
}
