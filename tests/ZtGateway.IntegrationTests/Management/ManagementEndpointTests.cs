using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using ZtGateway.IntegrationTests.Infrastructure;

namespace ZtGateway.IntegrationTests.Management;

/// <summary>Management endpoints answer on their own listener only; the admin API wants the admin role.</summary>
public sealed class ManagementEndpointTests : IAsyncLifetime
{
    private readonly TestIdentity _identity = new();
    private EchoUpstream _ledger = null!;
    private TestGateway _gateway = null!;
    private HttpClient _management = null!;

    public async Task InitializeAsync()
    {
        _ledger = await EchoUpstream.StartAsync("ledger");
        var gatewayYaml = TestGateway.DefaultGatewayYaml.Replace("listen: \"\"", "listen: http://127.0.0.1:0", StringComparison.Ordinal)
            + "\nadmin:\n  issuer: test\n  role: ZtGatewayAdmin\n";
        _gateway = await TestGateway.StartAsync(_identity, Topology.Standard(_ledger.Url, _ledger.Url, DateTimeOffset.UtcNow.AddDays(1)), gatewayYaml);
        _management = new HttpClient { BaseAddress = _gateway.Host.ManagementAddress };
    }

    public async Task DisposeAsync()
    {
        _management.Dispose();
        await _gateway.DisposeAsync();
        await _ledger.DisposeAsync();
        _identity.Dispose();
    }

    [Fact]
    public async Task Healthz_AndReadyz_AnswerOnTheManagementListener()
    {
        Assert.Equal(HttpStatusCode.OK, (await _management.GetAsync("/healthz")).StatusCode);
        using var ready = await _management.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        using var json = JsonDocument.Parse(await ready.Content.ReadAsStringAsync());
        Assert.True(json.RootElement.GetProperty("ready").GetBoolean());
    }

    [Theory]
    [InlineData("/healthz")]
    [InlineData("/readyz")]
    [InlineData("/admin/policy")]
    [InlineData("/metrics")]
    [InlineData("/ssf/events")]
    public async Task ManagementPaths_Are404_OnEverySegmentListener(string path)
    {
        foreach (var segment in new[] { "finance", "hr" })
        {
            using var client = _gateway.Client(segment);
            var admin = _identity.User(_gateway.Time.GetUtcNow(), "root", roles: ["ZtGatewayAdmin"]);

            var answer = await Problem.SendAsync(client, HttpMethod.Get, path, admin);

            Assert.Equal(HttpStatusCode.NotFound, answer.Status);
            Assert.Equal("route-not-found", answer.Reason);
        }
    }

    [Fact]
    public async Task Metrics_AreThePrometheusTextOfTheDecisionsTaken()
    {
        using var finance = _gateway.Client("finance");
        Assert.Equal(HttpStatusCode.OK, (await Problem.SendAsync(finance, HttpMethod.Get, "/ledger/1", _identity.User(_gateway.Time.GetUtcNow(), "alice", ["finance-staff"]))).Status);
        Assert.Equal("token-missing", (await Problem.SendAsync(finance, HttpMethod.Get, "/ledger/2")).Reason);
        Assert.Equal("token-missing", (await Problem.SendAsync(finance, HttpMethod.Get, "/ledger/3")).Reason);

        using var response = await _management.GetAsync("/metrics");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(response.Content.Headers.ContentType!.Parameters, p => p.Name == "version" && p.Value == "0.0.4");
        var text = await response.Content.ReadAsStringAsync();
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("# TYPE ztgw_decisions_total counter", lines);
        Assert.Contains("ztgw_decisions_total{ztgw_decision=\"allow\",ztgw_reason=\"allowed\",ztgw_route=\"ledger\",ztgw_segment_dst=\"finance\",ztgw_segment_src=\"finance\"} 1", lines);
        Assert.Contains("ztgw_decisions_total{ztgw_decision=\"deny\",ztgw_reason=\"token-missing\",ztgw_route=\"ledger\",ztgw_segment_dst=\"finance\"} 2", lines);
        Assert.Contains("# TYPE ztgw_decision_duration_seconds histogram", lines);
        Assert.Contains("ztgw_decision_duration_seconds_bucket{ztgw_decision=\"deny\",ztgw_segment_dst=\"finance\",le=\"+Inf\"} 2", lines);
        Assert.Contains("ztgw_decision_duration_seconds_count{ztgw_decision=\"deny\",ztgw_segment_dst=\"finance\"} 2", lines);
        Assert.Contains("# TYPE ztgw_upstream_failures_total counter", lines);
        Assert.All(lines, line => Assert.Matches(@"^(# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+|[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*=""([^""\\]|\\.)*"",?)*\})? [-+0-9.eEInfNa]+)$", line));
    }

    [Fact]
    public async Task AdminPolicy_NeedsTheAdminRole()
    {
        var now = _gateway.Time.GetUtcNow();
        using var anonymous = await _management.GetAsync("/admin/policy");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);

        using var notAdmin = new HttpRequestMessage(HttpMethod.Get, "/admin/policy");
        notAdmin.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _identity.User(now, "alice", ["finance-staff"]));
        using var refused = await _management.SendAsync(notAdmin);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);

        using var asAdmin = new HttpRequestMessage(HttpMethod.Get, "/admin/policy");
        asAdmin.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _identity.User(now, "root", roles: ["ZtGatewayAdmin"]));
        using var allowed = await _management.SendAsync(asAdmin);
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        using var json = JsonDocument.Parse(await allowed.Content.ReadAsStringAsync());
        Assert.Equal(_gateway.Host.State.Current.Policy.Version, json.RootElement.GetProperty("version").GetString());
        Assert.Equal(2, json.RootElement.GetProperty("segments").GetArrayLength());
    }
}
