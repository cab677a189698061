using System.Net;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using ZtGateway.Upstream.Keys;
using ZtGateway.Upstream.Tests.Infrastructure;

namespace ZtGateway.Upstream.Tests.Keys;

public sealed class JwksGatewayKeySourceTests
{
    [Fact]
    public async Task Keys_AreFetchedOnceAndCached()
    {
        await using var host = await SampleServiceHost.StartAsync();

        for (var i = 0; i < 3; i++)
        {
            using var response = await host.SendAsync(host.Mint());
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(1, host.Jwks.Fetches);
    }

    [Fact]
    public async Task Keys_AreFetchedAgainAfterTheRefreshInterval()
    {
        await using var host = await SampleServiceHost.StartAsync();
        using var first = await host.SendAsync(host.Mint());

        host.Time.Advance(TimeSpan.FromMinutes(5));
        using var second = await host.SendAsync(host.Mint());

        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(2, host.Jwks.Fetches);
    }

    [Fact]
    public async Task UnknownKeyId_TriggersOneRefresh_ThenSucceedsAfterRotation()
    {
        await using var host = await SampleServiceHost.StartAsync();
        using var beforeRotation = await host.SendAsync(host.Mint());
        Assert.Equal(HttpStatusCode.OK, beforeRotation.StatusCode);

        using var rotated = new GatewayKey("gw-2");
        host.Jwks.Publish(rotated);
        using var afterRotation = await host.SendAsync(AssertionMinter.Mint(rotated, host.Time.GetUtcNow()));
        using var again = await host.SendAsync(AssertionMinter.Mint(rotated, host.Time.GetUtcNow()));

        Assert.Equal(HttpStatusCode.OK, afterRotation.StatusCode);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(2, host.Jwks.Fetches);
    }

    [Fact]
    public async Task UnknownKeyId_RefreshesAtMostOnceEveryThirtySeconds()
    {
        await using var host = await SampleServiceHost.StartAsync();
        using var unpublished = new GatewayKey("made-up");

        using var first = await host.SendAsync(AssertionMinter.Mint(unpublished, host.Time.GetUtcNow()));
        using var second = await host.SendAsync(AssertionMinter.Mint(unpublished, host.Time.GetUtcNow()));
        host.Time.Advance(TimeSpan.FromSeconds(29));
        using var third = await host.SendAsync(AssertionMinter.Mint(unpublished, host.Time.GetUtcNow()));
        var fetchesWithinGap = host.Jwks.Fetches;
        host.Time.Advance(TimeSpan.FromSeconds(1));
        using var fourth = await host.SendAsync(AssertionMinter.Mint(unpublished, host.Time.GetUtcNow()));

        Assert.All([first, second, third, fourth], response => Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode));
        Assert.Equal(2, fetchesWithinGap);
        Assert.Equal(3, host.Jwks.Fetches);
    }

    [Fact]
    public async Task GatewayOutage_Is401_AndRecovers()
    {
        await using var host = await SampleServiceHost.StartAsync();
        host.Jwks.Fail(500);
        using var duringOutage = await host.SendAsync(host.Mint());

        host.Jwks.Publish(host.Key);
        using var tooSoon = await host.SendAsync(host.Mint());
        host.Time.Advance(JwksGatewayKeySource.FailedFetchRetryGap);
        using var recovered = await host.SendAsync(host.Mint());

        Assert.Equal(HttpStatusCode.Unauthorized, duringOutage.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, tooSoon.StatusCode);
        Assert.Equal(HttpStatusCode.OK, recovered.StatusCode);
        Assert.Equal(2, host.Jwks.Fetches);
    }

    [Fact]
    public async Task FailedRefresh_KeepsTheLastGoodKeys()
    {
        await using var host = await SampleServiceHost.StartAsync();
        using var first = await host.SendAsync(host.Mint());

        host.Jwks.PublishRaw("<html>maintenance</html>");
        host.Time.Advance(TimeSpan.FromMinutes(5));
        using var second = await host.SendAsync(host.Mint());

        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(2, host.Jwks.Fetches);
    }

    [Fact]
    public async Task OnlyEcP256SigningKeys_AreUsed()
    {
        using var gateway = new GatewayKey("gw-1");
        var jwk = gateway.PublicJwk;
        var json = $$"""
            {"keys":[
              {"kty":"oct","kid":"sym","k":"c2VjcmV0"},
              {"kty":"RSA","kid":"rsa","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB"},
              {"kty":"EC","kid":"p384","crv":"P-384","x":"{{jwk["x"]}}","y":"{{jwk["y"]}}"},
              {"kty":"EC","kid":"enc","crv":"P-256","use":"enc","x":"{{jwk["x"]}}","y":"{{jwk["y"]}}"},
              {"kty":"EC","kid":"gw-1","crv":"P-256","use":"sig","alg":"ES256","x":"{{jwk["x"]}}","y":"{{jwk["y"]}}"}
            ]}
            """;
        using var handler = new StubJwksHandler(json);
        using var source = new JwksGatewayKeySource(
            new ZtGatewayAssertionOptions { JwksUri = new Uri("https://gateway.invalid/.well-known/ztgw/jwks.json"), BackchannelHandler = handler, TimeProvider = new FakeTimeProvider() },
            NullLogger<JwksGatewayKeySource>.Instance);

        var keys = await source.GetKeysAsync(CancellationToken.None);

        Assert.Equal("gw-1", Assert.Single(keys).KeyId);
        Assert.Equal(1, handler.Calls);
    }

    [Fact]
    public async Task BackchannelHandler_IsUsedAndNotDisposed()
    {
        using var gateway = new GatewayKey("gw-1");
        using var handler = new StubJwksHandler(System.Text.Json.JsonSerializer.Serialize(new { keys = new[] { gateway.PublicJwk } }));
        var source = new JwksGatewayKeySource(
            new ZtGatewayAssertionOptions { JwksUri = new Uri("https://gateway.invalid/jwks.json"), BackchannelHandler = handler, TimeProvider = new FakeTimeProvider() },
            NullLogger<JwksGatewayKeySource>.Instance);

        var keys = await source.GetKeysAsync(CancellationToken.None);
        source.Dispose();

        Assert.Single(keys);
        Assert.Equal(new Uri("https://gateway.invalid/jwks.json"), handler.LastUri);
        Assert.False(handler.Disposed);
    }

    private sealed class StubJwksHandler(string json) : HttpMessageHandler
    {
        public int Calls { get; private set; }

        public Uri? LastUri { get; private set; }

        public bool Disposed { get; private set; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Calls++;
            LastUri = request.RequestUri;
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(json, Encoding.UTF8, "application/json") });
        }

        protected override void Dispose(bool disposing)
        {
            Disposed = true;
            base.Dispose(disposing);
        }
    }
}
