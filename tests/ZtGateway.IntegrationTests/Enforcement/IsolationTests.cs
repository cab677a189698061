using System.Net;
using ZtGateway.IntegrationTests.Infrastructure;

namespace ZtGateway.IntegrationTests.Enforcement;

/// <summary>
/// A caller cannot reach a route it should not by bending the request: Host headers, path encodings and
/// headers that pretend to come from the gateway.
/// </summary>
public sealed class IsolationTests : IAsyncLifetime
{
    private readonly TestIdentity _identity = new();
    private EchoUpstream _payroll = null!;
    private EchoUpstream _admin = null!;
    private EchoUpstream _ledger = null!;
    private TestGateway _gateway = null!;

    public async Task InitializeAsync()
    {
        _payroll = await EchoUpstream.StartAsync("payroll");
        _admin = await EchoUpstream.StartAsync("payroll-admin");
        _ledger = await EchoUpstream.StartAsync("ledger");
        var segments = new Dictionary<string, string>
        {
            ["hr"] = $$"""
                segment: hr
                listen: http://127.0.0.1:0
                members:
                  networks: [127.0.0.0/8]
                defaults: { device: any }
                services:
                  payroll: { destinations: [{{_payroll.Url}}] }
                  admin: { destinations: [{{_admin.Url}}] }
                  passthrough: { destinations: [{{_payroll.Url}}], passAuthorization: true }
                routes:
                  - id: payroll-read
                    match: { path: "/payroll/{**rest}", methods: [GET] }
                    service: payroll
                    allow:
                      - { name: hr-staff, from: [hr], users: { groups: [hr-staff] } }
                  - id: payroll-admin
                    match: { path: "/payroll/admin/{**rest}" }
                    service: admin
                    allow:
                      - { name: admins, from: [hr], users: { roles: [PayrollAdmin] } }
                  - id: passthrough
                    match: { path: "/pass/{**rest}" }
                    service: passthrough
                    allow:
                      - { name: hr-staff, from: [hr], users: { groups: [hr-staff] } }
                """,
            ["finance"] = $$"""
                segment: finance
                listen: http://127.0.0.1:0
                members:
                  networks: [10.10.0.0/16]
                defaults: { device: any }
                services:
                  ledger: { destinations: [{{_ledger.Url}}] }
                routes:
                  - id: ledger
                    match: { path: "/ledger/{**rest}" }
                    service: ledger
                    allow:
                      - { name: everyone, from: ["*"], users: { groups: [hr-staff] } }
                """,
        };
        _gateway = await TestGateway.StartAsync(_identity, segments);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _payroll.DisposeAsync();
        await _admin.DisposeAsync();
        await _ledger.DisposeAsync();
        _identity.Dispose();
    }

    private string HrStaff() => _identity.User(_gateway.Time.GetUtcNow(), "harry", ["hr-staff"]);

    [Fact]
    public async Task HostHeaderNamingHr_OnFinanceListener_NeverReachesHr()
    {
        var hr = _gateway.Listener("hr");

        var (status, response) = await RawHttp.SendAsync(_gateway.Listener("finance"), "GET", "/payroll/alice",
            "Host: " + hr.Authority, "Authorization: Bearer " + HrStaff());

        Assert.Equal(404, status);
        Assert.Contains("route-not-found", response, StringComparison.Ordinal);
        Assert.Empty(_payroll.Requests);
        Assert.Empty(_admin.Requests);
    }

    [Fact]
    public async Task AbsoluteFormTargetNamingHr_OnFinanceListener_NeverReachesHr()
    {
        var hr = _gateway.Listener("hr");

        var (status, _) = await RawHttp.SendAsync(_gateway.Listener("finance"), "GET", $"http://{hr.Authority}/payroll/alice",
            "Authorization: Bearer " + HrStaff());

        Assert.NotEqual(200, status);
        Assert.Empty(_payroll.Requests);
    }

    [Fact]
    public async Task PlainPayrollRead_IsAllowed()
    {
        var (status, _) = await RawHttp.SendAsync(_gateway.Listener("hr"), "GET", "/payroll/alice", "Authorization: Bearer " + HrStaff());

        Assert.Equal(200, status);
        Assert.Single(_payroll.Requests);
    }

    [Theory]
    [InlineData("/payroll/../payroll/admin/x")]
    [InlineData("/payroll/%2e%2e/payroll/admin/x")]
    [InlineData("/payroll/%2E%2E/payroll/admin/x")]
    [InlineData("/payroll/./admin/x")]
    [InlineData("/payroll//admin/x")]
    [InlineData("/payroll/admin/x")]
    [InlineData("/PAYROLL/ADMIN/x")]
    [InlineData("/Payroll/Admin/x")]
    [InlineData("/payroll/admin%2Fx")]
    [InlineData("/payroll%2Fadmin/x")]
    [InlineData("/payroll%2fadmin%2fx")]
    [InlineData("/payroll/%61dmin/x")]
    [InlineData("/payroll/admin%5Cx")]
    [InlineData("/payroll/x/..%2Fadmin/y")]
    public async Task PathTricks_NeverReachAdmin_NorSmuggleAdminThroughTheReadRoute(string target)
    {
        var (status, _) = await RawHttp.SendAsync(_gateway.Listener("hr"), "GET", target, "Authorization: Bearer " + HrStaff());

        Assert.NotEqual(200, status);
        Assert.Empty(_admin.Requests);
        Assert.DoesNotContain(_payroll.Requests, r => r.Path.Contains("admin", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task SpoofedGatewayHeaders_AndAuthorization_NeverReachUpstream()
    {
        using var client = _gateway.Client("hr");

        var answer = await Problem.SendAsync(client, HttpMethod.Get, "/payroll/alice", HrStaff(), request =>
        {
            request.Headers.Add("X-ZT-Assertion", "forged.assertion.value");
            request.Headers.Add("X-ZT-Anything", "forged");
            request.Headers.Add("x-zt-src-segment", "hr");
            request.Headers.Add("X-Device-Compliant", "true");
        });

        Assert.Equal(HttpStatusCode.OK, answer.Status);
        var seen = Assert.Single(_payroll.Requests);
        Assert.DoesNotContain(seen.Headers.Keys, k => k.StartsWith("X-ZT-", StringComparison.OrdinalIgnoreCase) && !k.Equals("X-ZT-Assertion", StringComparison.OrdinalIgnoreCase));
        Assert.False(seen.Headers.TryGetValue("X-ZT-Assertion", out var assertion) && assertion == "forged.assertion.value");
        Assert.DoesNotContain(seen.Headers.Keys, k => k.StartsWith("X-Device-", StringComparison.OrdinalIgnoreCase));
        Assert.False(seen.Headers.ContainsKey("Authorization"));
    }

    [Fact]
    public async Task PassAuthorization_ForwardsTheCallersToken()
    {
        using var client = _gateway.Client("hr");
        var token = HrStaff();

        var answer = await Problem.SendAsync(client, HttpMethod.Get, "/pass/x", token);

        Assert.Equal(HttpStatusCode.OK, answer.Status);
        var seen = Assert.Single(_payroll.Requests);
        Assert.Equal("Bearer " + token, seen.Headers["Authorization"]);
    }
}
