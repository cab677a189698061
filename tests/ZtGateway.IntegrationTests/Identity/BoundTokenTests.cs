using System.Net;
using System.Text.Json;
using ZtGateway.IntegrationTests.Infrastructure;

namespace ZtGateway.IntegrationTests.Identity;

/// <summary>
/// <c>boundToken</c> and certificate-bound tokens on a listener that asks for no client certificate: whatever the
/// token, nothing bound can reach it, and each refusal says why in its challenge and its audit line.
/// </summary>
public sealed class BoundTokenTests : IAsyncLifetime
{
    private const string Sync = "spiffe://corp.test/hr/sync";

    private readonly TestIdentity _identity = new();
    private EchoUpstream _payroll = null!;
    private TestGateway _gateway = null!;
    private HttpClient _hr = null!;

    private DateTimeOffset Now => _gateway.Time.GetUtcNow();

    public async Task InitializeAsync()
    {
        _payroll = await EchoUpstream.StartAsync("payroll");
        _gateway = await TestGateway.StartAsync(_identity, new Dictionary<string, string>
        {
            ["hr"] = $$"""
                segment: hr
                listen: http://127.0.0.1:0
                members:
                  workloads: [{{Sync}}]
                  networks: [127.0.0.0/8]
                defaults: { mfa: required, device: any }
                services:
                  payroll:
                    destinations: [{{_payroll.Url}}]
                routes:
                  - id: payroll-admin
                    match: { path: "/payroll/admin/{**rest}" }
                    service: payroll
                    allow:
                      - name: admins
                        from: [hr]
                        users: { roles: [PayrollAdmin] }
                        boundToken: true
                      - name: sync
                        from: [hr]
                        workloads: [{{Sync}}]
                        boundToken: true
                  - id: payroll-read
                    match: { path: "/payroll/{**rest}" }
                    service: payroll
                    allow:
                      - name: admins
                        from: [hr]
                        users: { roles: [PayrollAdmin] }
                """,
        });
        _hr = _gateway.Client("hr");
    }

    public async Task DisposeAsync()
    {
        _hr.Dispose();
        await _gateway.DisposeAsync();
        await _payroll.DisposeAsync();
        _identity.Dispose();
    }

    [Fact]
    public async Task ABearerToken_OnABoundTokenRule_IsTokenUnbound_Challenged_AndAudited()
    {
        var answer = await Problem.SendAsync(_hr, HttpMethod.Get, "/payroll/admin/run", _identity.User(Now, "alice", roles: ["PayrollAdmin"]));

        Assert.Equal((HttpStatusCode.Unauthorized, "token-unbound"), (answer.Status, answer.Reason));
        Assert.Equal(
            "Bearer realm=\"ztgw:hr\", error=\"invalid_token\", error_description=\"a certificate-bound token is required\"",
            answer.Challenge);
        Assert.Contains("\"title\":\"A certificate-bound token is required\"", answer.Body, StringComparison.Ordinal);
        Assert.Empty(_payroll.Requests);

        var line = await AuditLineOf(answer.DecisionId!);
        Assert.Equal("token-unbound", line.GetProperty("status_detail").GetString());
        Assert.Equal("token-unbound", line.GetProperty("unmapped").GetProperty("ztgw").GetProperty("reason").GetString());
        Assert.Equal(26, line.GetProperty("disposition_id").GetInt32());
        Assert.Equal(401, line.GetProperty("http_response").GetProperty("code").GetInt32());
        Assert.Equal("admins", line.GetProperty("policy").GetProperty("name").GetString());
        Assert.Equal("alice", line.GetProperty("actor").GetProperty("user").GetProperty("uid").GetString());
    }

    [Fact]
    public async Task AWorkloadsBearerToken_OnABoundTokenRule_IsTokenUnbound()
    {
        var answer = await Problem.SendAsync(_hr, HttpMethod.Get, "/payroll/admin/run", _identity.Workload(Now, Sync));

        Assert.Equal((HttpStatusCode.Unauthorized, "token-unbound"), (answer.Status, answer.Reason));
        Assert.Empty(_payroll.Requests);
    }

    [Fact]
    public async Task ACertificateBoundToken_WithoutItsCertificate_IsTokenInvalid_AndSaysItIsBound()
    {
        var bound = AliceBoundElsewhere();

        // Even on a route that takes bearer tokens: the token is not one.
        var answer = await Problem.SendAsync(_hr, HttpMethod.Get, "/payroll/2026", bound);

        Assert.Equal((HttpStatusCode.Unauthorized, "token-invalid"), (answer.Status, answer.Reason));
        Assert.Equal(
            "Bearer realm=\"ztgw:hr\", error=\"invalid_token\", error_description=\"the token is bound to a client certificate this connection did not present\"",
            answer.Challenge);
        Assert.Empty(_payroll.Requests);
        Assert.Equal("token-invalid", (await AuditLineOf(answer.DecisionId!)).GetProperty("status_detail").GetString());
    }

    [Fact]
    public async Task ABearerToken_WhereNoBindingIsAsked_IsForwarded()
    {
        var answer = await Problem.SendAsync(_hr, HttpMethod.Get, "/payroll/2026", _identity.User(Now, "alice", roles: ["PayrollAdmin"]));

        Assert.Equal(HttpStatusCode.OK, answer.Status);
        Assert.Single(_payroll.Requests);
    }

    // A token of alice's whose cnf names a certificate nobody here presents.
    private string AliceBoundElsewhere() => _identity.Sign(Now, new Dictionary<string, object>
    {
        ["sub"] = "alice",
        ["roles"] = new[] { "PayrollAdmin" },
        ["amr"] = new[] { "pwd", "mfa" },
        ["auth_time"] = Now.AddMinutes(-5).ToUnixTimeSeconds(),
        ["cnf"] = new Dictionary<string, object> { ["x5t#S256"] = "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg0" },
    });

    private async Task<JsonElement> AuditLineOf(string decisionId)
    {
        var lines = await AuditLines.ReadWithoutPolicyChangesAsync(_gateway.AuditFile);
        return lines.Select(l => JsonDocument.Parse(l).RootElement)
            .Single(l => l.GetProperty("metadata").GetProperty("uid").GetString() == decisionId);
    }
}
