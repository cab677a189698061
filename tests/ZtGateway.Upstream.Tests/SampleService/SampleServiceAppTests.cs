using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Options;
using ZtGateway.SampleService;
using ZtGateway.Upstream.Tests.Infrastructure;

namespace ZtGateway.Upstream.Tests.SampleService;

public sealed class SampleServiceAppTests
{
    [Fact]
    public async Task ValidAssertion_IsEchoedWithTheCallerClaims()
    {
        await using var host = await SampleServiceHost.StartAsync();

        using var response = await host.SendAsync(host.Mint(), "/payroll/slips/2026-02");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var echo = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = echo.RootElement;
        Assert.Equal("payroll", root.GetProperty("service").GetString());
        Assert.Equal("GET", root.GetProperty("method").GetString());
        Assert.Equal("/payroll/slips/2026-02", root.GetProperty("path").GetString());
        var caller = root.GetProperty("caller");
        Assert.Equal("alice@corp.example", caller.GetProperty("sub").GetString());
        Assert.Equal("user", caller.GetProperty("principal_type").GetString());
        Assert.Equal("hr", caller.GetProperty("src_segment").GetString());
        Assert.Equal("hr", caller.GetProperty("dst_segment").GetString());
        Assert.Equal("payroll-read", caller.GetProperty("route").GetString());
        Assert.Equal("hr-staff", caller.GetProperty("rule").GetString());
        Assert.Equal("dev-42", caller.GetProperty("device_id").GetString());
    }

    [Fact]
    public async Task WorkloadWithoutDevice_IsEchoedWithNullDevice()
    {
        await using var host = await SampleServiceHost.StartAsync();
        var assertion = host.Mint(claims =>
        {
            claims["sub"] = "spiffe://corp.example/finance/ledger-sync";
            claims["principal_type"] = "workload";
            claims["src_segment"] = "finance";
            claims.Remove("device_id");
            claims.Remove("amr");
        });

        using var response = await host.SendAsync(assertion);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var echo = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var caller = echo.RootElement.GetProperty("caller");
        Assert.Equal("workload", caller.GetProperty("principal_type").GetString());
        Assert.Equal("finance", caller.GetProperty("src_segment").GetString());
        Assert.Equal(JsonValueKind.Null, caller.GetProperty("device_id").ValueKind);
    }

    [Theory]
    [InlineData("POST")]
    [InlineData("PUT")]
    [InlineData("DELETE")]
    [InlineData("PATCH")]
    public async Task EveryMethod_IsEchoed(string method)
    {
        await using var host = await SampleServiceHost.StartAsync();

        using var response = await host.SendAsync(host.Mint(), "/payroll/admin/run", new HttpMethod(method));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var echo = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(method, echo.RootElement.GetProperty("method").GetString());
    }

    [Fact]
    public async Task Healthz_IsAnonymous()
    {
        await using var host = await SampleServiceHost.StartAsync();

        using var response = await host.SendAsync(assertion: null, "/healthz");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ok", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("/payroll/slips")]
    [InlineData("/")]
    [InlineData("/healthz/extra")]
    public async Task MissingAssertion_Is401WithChallengeAndProblem(string path)
    {
        await using var host = await SampleServiceHost.StartAsync();

        using var response = await host.SendAsync(assertion: null, path, HttpMethod.Post);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("ZtGatewayAssertion", Assert.Single(response.Headers.WwwAuthenticate).Scheme);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("""{"title":"request did not come through the gateway","status":401}""", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task AssertionForAnotherService_Is401()
    {
        await using var host = await SampleServiceHost.StartAsync();

        using var response = await host.SendAsync(host.Mint(claims => claims["aud"] = "ledger"));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task ServiceName_IsTheAudience()
    {
        await using var host = await SampleServiceHost.StartAsync(service: "ledger");

        using var forLedger = await host.SendAsync(host.Mint(claims => claims["aud"] = "ledger"));
        using var forPayroll = await host.SendAsync(host.Mint());

        Assert.Equal(HttpStatusCode.OK, forLedger.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, forPayroll.StatusCode);
        using var echo = JsonDocument.Parse(await forLedger.Content.ReadAsStringAsync());
        Assert.Equal("ledger", echo.RootElement.GetProperty("service").GetString());
    }

    [Fact]
    public async Task GatewayIssuer_ReplacesTheDefault()
    {
        await using var host = await SampleServiceHost.StartAsync(AssertionMinter.Service, "--gateway-issuer", "https://gw.hr.corp.example");

        using var fromConfigured = await host.SendAsync(host.Mint(claims => claims["iss"] = "https://gw.hr.corp.example"));
        using var fromDefault = await host.SendAsync(host.Mint());

        Assert.Equal(HttpStatusCode.OK, fromConfigured.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, fromDefault.StatusCode);
    }

    [Fact]
    public void Build_RefusesMissingServiceName()
    {
        var error = Assert.Throws<InvalidOperationException>(() => SampleServiceApp.Build(["--urls", "http://127.0.0.1:0", "--gateway-jwks", "http://127.0.0.1:1/jwks.json"]));

        Assert.Contains("--service", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_RefusesRelativeJwksUrl()
    {
        var error = Assert.Throws<InvalidOperationException>(() => SampleServiceApp.Build(["--service", "payroll", "--gateway-jwks", "jwks.json"]));

        Assert.Contains("--gateway-jwks", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_RefusesMissingKeySource()
    {
        await using var app = SampleServiceApp.Build(["--urls", "http://127.0.0.1:0", "--service", "payroll", "--Logging:LogLevel:Default", "None"]);

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());

        Assert.Contains(error.Failures, failure => failure.Contains("JwksUri", StringComparison.Ordinal));
    }
}
