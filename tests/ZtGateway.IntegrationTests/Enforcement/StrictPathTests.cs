using System.Text.Json;
using ZtGateway.IntegrationTests.Infrastructure;

namespace ZtGateway.IntegrationTests.Enforcement;

/// <summary>
/// Paths that an upstream could read as another path (Tomcat, Jetty and Spring strip <c>;</c> parameters and then
/// resolve <c>..</c>; a second decode turns <c>%2561</c> into <c>a</c>) are refused 400 <c>path-invalid</c> before any
/// route is matched, audited, and never forwarded; ordinary paths still route, and the upstream gets the path that
/// was decided on.
/// </summary>
public sealed class StrictPathTests : IAsyncLifetime
{
    private readonly TestIdentity _identity = new();
    private EchoUpstream _payroll = null!;
    private EchoUpstream _admin = null!;
    private TestGateway _gateway = null!;

    public async Task InitializeAsync()
    {
        _payroll = await EchoUpstream.StartAsync("payroll");
        _admin = await EchoUpstream.StartAsync("payroll-admin");
        _gateway = await TestGateway.StartAsync(_identity, new Dictionary<string, string>
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
                """,
        });
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _payroll.DisposeAsync();
        await _admin.DisposeAsync();
        _identity.Dispose();
    }

    private string HrStaff() => _identity.User(_gateway.Time.GetUtcNow(), "harry", ["hr-staff"]);

    [Theory]
    [InlineData("/payroll/admin;x/run")]
    [InlineData("/payroll/..;/admin/run")]
    [InlineData("/payroll/;/admin/run")]
    [InlineData("/payroll/admin;jsessionid=1/run")]
    [InlineData("/payroll/%3Badmin/run")]
    [InlineData("/payroll/%2561dmin/run")]
    [InlineData("/payroll/%252e%252e/admin/run")]
    [InlineData("/payroll/%25")]
    [InlineData("/payroll/admin%2Frun")]
    [InlineData("/payroll/admin%2frun")]
    [InlineData("/payroll%2Fadmin/run")]
    [InlineData("/payroll/admin%5Crun")]
    [InlineData("/payroll/admin%5crun")]
    [InlineData("/payroll/admin\\run")]
    [InlineData("/payroll/x/..%2Fadmin/run")]
    [InlineData("/payroll/a%0Ab")]
    [InlineData("/payroll/a%0db")]
    [InlineData("/payroll/a%1Fb")]
    [InlineData("/payroll/a%7Fb")]
    [InlineData("/payroll/a%C3b")]
    [InlineData("/payroll/a%C0%AFb")]
    [InlineData("/payroll/a%ED%A0%80b")]
    [InlineData("/payroll/a%FFb")]
    [InlineData("/payroll/a%zzb")]
    [InlineData("/payroll/a%4")]
    [InlineData("/payroll//admin/run")]
    public async Task AmbiguousPath_IsRefusedPathInvalid_Audited_AndNeverForwarded(string target)
    {
        var (status, response) = await RawHttp.SendAsync(_gateway.Listener("hr"), "GET", target, "Authorization: Bearer " + HrStaff());

        Assert.True(status == 400, $"{target}: {status}\n{response}");
        using var problem = JsonDocument.Parse(response[(response.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..]);
        Assert.Equal("path-invalid", problem.RootElement.GetProperty("reason").GetString());
        Assert.Equal("urn:ztgw:problem:path-invalid", problem.RootElement.GetProperty("type").GetString());
        var decisionId = problem.RootElement.GetProperty("decisionId").GetString();
        Assert.Empty(_payroll.Requests);
        Assert.Empty(_admin.Requests);

        var line = Assert.Single(await AuditLines(), l => l.GetProperty("metadata").GetProperty("uid").GetString() == decisionId);
        Assert.Equal("path-invalid", line.GetProperty("unmapped").GetProperty("ztgw").GetProperty("reason").GetString());
        Assert.Equal(400, line.GetProperty("http_response").GetProperty("code").GetInt32());
    }

    [Theory]
    [InlineData("/payroll/a%00b")]
    [InlineData("/payroll/a\u0001b")]
    public async Task MalformedRequestLine_IsRefusedByTheListener_BeforeThereIsARequest(string target)
    {
        // Kestrel itself answers 400 to a NUL or a raw control character in the request line: no request reaches
        // the enforcement stage, so there is no decision to audit, and nothing is forwarded.
        var (status, _) = await RawHttp.SendAsync(_gateway.Listener("hr"), "GET", target, "Authorization: Bearer " + HrStaff());

        Assert.Equal(400, status);
        Assert.Empty(_payroll.Requests);
        Assert.Empty(_admin.Requests);
    }

    [Theory]
    [InlineData("/payroll/alice", "/payroll/alice")]
    [InlineData("/payroll/x/../alice", "/payroll/alice")]
    [InlineData("/payroll/./alice", "/payroll/alice")]
    [InlineData("/payroll/a%20b", "/payroll/a%20b")]
    [InlineData("/payroll/geh%C3%A4lter/Zo%C3%AB", "/payroll/geh%C3%A4lter/Zo%C3%AB")]
    [InlineData("/payroll/%61lice", "/payroll/alice")]
    [InlineData("/payroll/alice?next=%2Fadmin%3Bx&q=a;b", "/payroll/alice?next=%2Fadmin%3Bx&q=a;b")]
    [InlineData("/payroll/report.2026..final", "/payroll/report.2026..final")]
    public async Task OrdinaryPath_IsRouted_AndTheUpstreamGetsThePathThatWasDecided(string target, string forwarded)
    {
        var (status, response) = await RawHttp.SendAsync(_gateway.Listener("hr"), "GET", target, "Authorization: Bearer " + HrStaff());

        Assert.True(status == 200, $"{target}: {status}\n{response}");
        var seen = Assert.Single(_payroll.Requests);
        Assert.Equal(forwarded, seen.RawTarget);
        Assert.Empty(_admin.Requests);
    }

    private async Task<List<JsonElement>> AuditLines()
    {
        var lines = new List<JsonElement>();
        foreach (var text in await File.ReadAllLinesAsync(_gateway.AuditFile))
        {
            using var document = JsonDocument.Parse(text);
            lines.Add(document.RootElement.Clone());
        }

        return lines;
    }
}
