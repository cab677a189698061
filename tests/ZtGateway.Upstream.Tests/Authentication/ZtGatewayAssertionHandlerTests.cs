using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using ZtGateway.Upstream.Tests.Infrastructure;

namespace ZtGateway.Upstream.Tests.Authentication;

public sealed class ZtGatewayAssertionHandlerTests
{
    [Fact]
    public async Task Rejects_AssertionSignedByAnotherKey()
    {
        await using var host = await SampleServiceHost.StartAsync();
        using var stranger = new GatewayKey("stranger");

        using var response = await host.SendAsync(AssertionMinter.Mint(stranger, host.Time.GetUtcNow()));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Rejects_AnotherKeyClaimingTheGatewayKeyId()
    {
        await using var host = await SampleServiceHost.StartAsync();
        using var forger = new GatewayKey(host.Key.KeyId);

        using var response = await host.SendAsync(AssertionMinter.Mint(forger, host.Time.GetUtcNow()));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Rejects_WrongIssuer()
    {
        await using var host = await SampleServiceHost.StartAsync();

        using var response = await host.SendAsync(host.Mint(claims => claims["iss"] = "https://idp.example"));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Rejects_Hs256()
    {
        await using var host = await SampleServiceHost.StartAsync();

        using var response = await host.SendAsync(AssertionMinter.MintHs256(host.Time.GetUtcNow(), host.Key.KeyId));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Rejects_AlgNone()
    {
        await using var host = await SampleServiceHost.StartAsync();

        using var response = await host.SendAsync(AssertionMinter.MintUnsigned(host.Time.GetUtcNow(), host.Key.KeyId));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Rejects_ReplayAfterExpiry()
    {
        await using var host = await SampleServiceHost.StartAsync();
        var assertion = host.Mint();
        using var fresh = await host.SendAsync(assertion);

        host.Time.Advance(TimeSpan.FromSeconds(66));
        using var replayed = await host.SendAsync(assertion);

        Assert.Equal(HttpStatusCode.OK, fresh.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, replayed.StatusCode);
    }

    [Fact]
    public async Task Accepts_ExpiryWithinClockSkew()
    {
        await using var host = await SampleServiceHost.StartAsync();
        var assertion = host.Mint();

        host.Time.Advance(TimeSpan.FromSeconds(64));
        using var response = await host.SendAsync(assertion);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Rejects_LifetimeOverFiveMinutes()
    {
        await using var host = await SampleServiceHost.StartAsync();
        var issuedAt = host.Time.GetUtcNow();

        using var response = await host.SendAsync(host.Mint(claims => claims["exp"] = (issuedAt + TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(1)).ToUnixTimeSeconds()));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Theory]
    [InlineData("not-a-jwt")]
    [InlineData("a.b.c")]
    [InlineData("Bearer eyJhbGciOiJFUzI1NiJ9.e30.AAAA")]
    public async Task Rejects_Garbage(string assertion)
    {
        await using var host = await SampleServiceHost.StartAsync();

        using var response = await host.SendAsync(assertion);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Rejects_TamperedClaims()
    {
        await using var host = await SampleServiceHost.StartAsync();
        var parts = host.Mint().Split('.');
        var claims = AssertionMinter.Claims(host.Time.GetUtcNow());
        claims["src_segment"] = "finance";
        var forged = parts[0] + "." + Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Encode(JsonSerializer.SerializeToUtf8Bytes(claims)) + "." + parts[2];

        using var response = await host.SendAsync(forged);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Rejects_TwoAssertionHeaders()
    {
        await using var host = await SampleServiceHost.StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/payroll/slips");
        request.Headers.TryAddWithoutValidation(SampleServiceHost.Header, [host.Mint(), host.Mint()]);

        using var response = await host.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task InvalidAssertion_GetsTheSameAnswerAsMissingOne()
    {
        await using var host = await SampleServiceHost.StartAsync();

        using var response = await host.SendAsync(host.Mint(claims => claims["aud"] = "ledger"));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("ZtGatewayAssertion", Assert.Single(response.Headers.WwwAuthenticate).Scheme);
        Assert.Equal("""{"title":"request did not come through the gateway","status":401}""", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Principal_CarriesAssertionClaimsUnderTheirJwtNames()
    {
        using var key = new GatewayKey("gw-1");
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 3, 1, 9, 0, 0, TimeSpan.Zero));
        await using var app = await StartMinimalAppAsync(key, time);
        using var client = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/claims");
        request.Headers.Add("X-ZT-Assertion", AssertionMinter.Mint(key, time.GetUtcNow()));

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = body.RootElement;
        Assert.Equal("alice@corp.example", root.GetProperty("name").GetString());
        Assert.Equal("ZtGatewayAssertion", root.GetProperty("authenticationType").GetString());
        var claims = root.GetProperty("claims").EnumerateArray()
            .Select(claim => (Type: claim.GetProperty("type").GetString()!, Value: claim.GetProperty("value").GetString()!))
            .ToList();
        Assert.Contains(("sub", "alice@corp.example"), claims);
        Assert.Contains(("principal_type", "user"), claims);
        Assert.Contains(("src_segment", "hr"), claims);
        Assert.Contains(("dst_segment", "hr"), claims);
        Assert.Contains(("route", "payroll-read"), claims);
        Assert.Contains(("rule", "hr-staff"), claims);
        Assert.Contains(("device_id", "dev-42"), claims);
        Assert.Contains(("decision_id", "d-7f3a"), claims);
        Assert.Equal(["pwd", "mfa"], claims.Where(claim => claim.Type == "amr").Select(claim => claim.Value));
        Assert.DoesNotContain(claims, claim => claim.Type.StartsWith("http://schemas.", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AllowAnonymousEndpoint_NeedsNoAssertion_OthersDo()
    {
        using var key = new GatewayKey("gw-1");
        await using var app = await StartMinimalAppAsync(key, new FakeTimeProvider());
        using var client = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };

        using var open = await client.GetAsync(new Uri("/open", UriKind.Relative));
        using var claims = await client.GetAsync(new Uri("/claims", UriKind.Relative));
        using var unmapped = await client.GetAsync(new Uri("/nowhere", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, open.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, claims.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, unmapped.StatusCode);
    }

    [Fact]
    public async Task HeadWithoutAssertion_Is401WithoutBody()
    {
        await using var host = await SampleServiceHost.StartAsync();

        using var response = await host.SendAsync(assertion: null, "/payroll/slips", HttpMethod.Head);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    /// <summary>An upstream that uses the library directly, with static keys and no JWKS.</summary>
    private static async Task<WebApplication> StartMinimalAppAsync(GatewayKey key, TimeProvider time)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddZtGatewayAssertion(options =>
        {
            options.Issuer = AssertionMinter.Issuer;
            options.Audience = AssertionMinter.Service;
            options.SigningKeys.Add(key.PublicSecurityKey());
            options.TimeProvider = time;
        });
        var app = builder.Build();
        app.MapGet("/open", () => "open").AllowAnonymous();
        app.MapGet("/claims", (HttpContext context) => Results.Json(new
        {
            name = context.User.Identity?.Name,
            authenticationType = context.User.Identity?.AuthenticationType,
            claims = context.User.Claims.Select(claim => new { type = claim.Type, value = claim.Value }).ToArray(),
        }));
        await app.StartAsync();
        return app;
    }
}
