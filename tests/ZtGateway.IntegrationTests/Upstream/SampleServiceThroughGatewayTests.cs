using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Time.Testing;
using ZtGateway.IntegrationTests.Infrastructure;
using ZtGateway.SampleService;

namespace ZtGateway.IntegrationTests.Upstream;

/// <summary>
/// The sample upstream, verifying assertions with ZtGateway.Upstream, behind a real gateway: it sees the
/// caller the gateway vouched for, and refuses anything that did not come through the gateway.
/// </summary>
public sealed class SampleServiceThroughGatewayTests : IAsyncLifetime
{
    private readonly TestIdentity _identity = new();
    private readonly FakeTimeProvider _serviceClock = new(DateTimeOffset.UtcNow);
    private EchoUpstream _capture = null!;
    private TestGateway _gateway = null!;
    private WebApplication _sample = null!;
    private string _sampleUrl = null!;

    public async Task InitializeAsync()
    {
        _capture = await EchoUpstream.StartAsync("capture");
        _sampleUrl = $"http://127.0.0.1:{Topology.UnusedPort()}";
        var segments = new Dictionary<string, string>
        {
            ["hr"] = $$"""
                segment: hr
                listen: http://127.0.0.1:0
                members:
                  networks: [127.0.0.0/8]
                defaults: { device: any }
                services:
                  payroll: { destinations: [{{_sampleUrl}}], healthCheck: /healthz }
                routes:
                  - id: payroll-read
                    match: { path: "/payroll/{**rest}", methods: [GET] }
                    service: payroll
                    allow:
                      - { name: hr-staff, from: [hr], users: { groups: [hr-staff] } }
                """,
            // Another segment with a service of the same name: its assertions carry aud=payroll too, which is
            // how this test gets hold of a real assertion to replay.
            ["finance"] = $$"""
                segment: finance
                listen: http://127.0.0.1:0
                members:
                  networks: [10.10.0.0/16]
                defaults: { device: any }
                services:
                  payroll: { destinations: [{{_capture.Url}}] }
                routes:
                  - id: capture
                    match: { path: "/capture/{**rest}" }
                    service: payroll
                    allow:
                      - { name: staff, from: ["*"], users: { groups: [hr-staff] } }
                """,
        };
        _gateway = await TestGateway.StartAsync(_identity, segments);
        _sample = SampleServiceApp.Build(
            ["--urls", _sampleUrl, "--service", "payroll", "--gateway-issuer", "https://ztgw.test",
             "--gateway-jwks", new Uri(_gateway.Listener("hr"), "/.well-known/ztgw/jwks.json").ToString()],
            options => options.TimeProvider = _serviceClock);
        await _sample.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _sample.StopAsync();
        await _sample.DisposeAsync();
        await _gateway.DisposeAsync();
        await _capture.DisposeAsync();
        _identity.Dispose();
    }

    private string Harry() => _identity.User(_gateway.Time.GetUtcNow(), "harry", ["hr-staff"]);

    [Fact]
    public async Task AllowedRequest_ReachesTheSample_WhichSeesTheVerifiedCaller()
    {
        using var hr = _gateway.Client("hr");

        var answer = await Problem.SendAsync(hr, HttpMethod.Get, "/payroll/harry", Harry());

        Assert.Equal(HttpStatusCode.OK, answer.Status);
        using var json = JsonDocument.Parse(answer.Body);
        var caller = json.RootElement.GetProperty("caller");
        Assert.Equal("harry", caller.GetProperty("sub").GetString());
        Assert.Equal("user", caller.GetProperty("principal_type").GetString());
        Assert.Equal("hr", caller.GetProperty("src_segment").GetString());
        Assert.Equal("payroll-read", caller.GetProperty("route").GetString());
        Assert.Equal("hr-staff", caller.GetProperty("rule").GetString());
    }

    [Fact]
    public async Task DirectCall_WithAHomeMadeAssertion_IsRefusedByTheSample()
    {
        using var direct = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, _sampleUrl + "/payroll/harry");
        request.Headers.Add("X-ZT-Assertion", _identity.User(_gateway.Time.GetUtcNow(), "harry", ["hr-staff"], audience: "payroll", issuer: "https://ztgw.test"));

        using var response = await direct.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task DirectCall_WithoutAssertion_IsRefusedByTheSample()
    {
        using var direct = new HttpClient();

        using var response = await direct.GetAsync(_sampleUrl + "/payroll/harry");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task ReplayedGatewayAssertion_IsAcceptedBeforeExp_AndRefusedAfter()
    {
        using var finance = _gateway.Client("finance");
        var captured = await Problem.SendAsync(finance, HttpMethod.Get, "/capture/x", Harry());
        Assert.Equal(HttpStatusCode.OK, captured.Status);
        var assertion = Assert.Single(_capture.Requests).Headers["X-ZT-Assertion"];

        using var direct = new HttpClient();
        async Task<HttpStatusCode> Replay()
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, _sampleUrl + "/payroll/harry");
            request.Headers.Add("X-ZT-Assertion", assertion);
            using var response = await direct.SendAsync(request);
            return response.StatusCode;
        }

        Assert.Equal(HttpStatusCode.OK, await Replay());
        _serviceClock.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(HttpStatusCode.Unauthorized, await Replay());
    }
}
