using System.Net;
using System.Text.Json;
using ZtGateway.Cli;
using ZtGateway.IntegrationTests.Infrastructure;

namespace ZtGateway.IntegrationTests.Governance;

/// <summary>
/// <c>ztgw explain</c> and the running gateway give the same decision and reason for the same request and the same
/// token and posture material: explain uses the gateway's own verifiers and engine, not a copy of the rules.
/// </summary>
public sealed class ExplainAgreementTests(ExplainAgreementTests.Fixture fixture) : IClassFixture<ExplainAgreementTests.Fixture>
{
    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var name in Fixture.CaseNames)
        {
            data.Add(name);
        }

        return data;
    }

    [Fact]
    public void Table_HasAtLeastThirtyRequests_CoveringManyReasons()
    {
        Assert.True(Fixture.CaseNames.Count >= 30);
        Assert.True(fixture.Requests.Values.Select(r => r.Expected).Distinct().Count() >= 15);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Explain_AgreesWithTheGateway(string name)
    {
        var request = fixture.Requests[name];

        var (gatewayDecision, gatewayReason) = await fixture.SendAsync(request);
        var (explainDecision, explainReason) = await fixture.ExplainAsync(request);

        Assert.Equal((gatewayDecision, gatewayReason), (explainDecision, explainReason));
        Assert.Equal(request.Expected, gatewayReason);
    }

    /// <summary>One request of the table: where it goes, what it carries, and the reason both must give.</summary>
    public sealed record Request(string Segment, HttpMethod Method, string Path, string? Token, string? Device, string Expected);

    /// <summary>A three-segment gateway, the callers' credentials, and the table of requests.</summary>
    public sealed class Fixture : IAsyncLifetime
    {
        public const string LedgerSync = "spiffe://corp.test/finance/ledger-sync";
        public const string PayrollEngine = "spiffe://corp.test/hr/payroll-engine";
        public const string OpsRunner = "spiffe://corp.test/ops/runner";

        public static readonly IReadOnlyList<string> CaseNames =
        [
            "finance staff read the ledger", "no token", "garbage token", "expired token", "token for another audience",
            "unsigned token", "password only", "wrong group", "method outside the route", "unknown path",
            "controller with fresh phr login", "controller without acr", "controller with hour-old login",
            "vault on a healthy laptop", "vault without a device", "vault on a noncompliant laptop", "vault on an unmanaged laptop",
            "vault on a high-risk laptop", "contractor in the vault", "self-signed posture", "posture of another user",
            "hr staff on an hr laptop", "hr staff on a finance laptop", "hr staff on a laptop of an unknown segment",
            "ledger sync reads payroll", "ledger sync writes payroll", "payroll engine from loopback",
            "ledger sync after its old grant", "ops runner posts a batch", "user posts a batch", "lan route from loopback",
            "ops staff on an ops laptop", "ops staff without a device", "ops runner on the ops route",
        ];

        private readonly TestIdentity _identity = new();
        private readonly TestDevices _devices = new();
        private EchoUpstream _upstream = null!;
        private TestGateway _gateway = null!;

        public Dictionary<string, Request> Requests { get; } = new(StringComparer.Ordinal);

        public async Task InitializeAsync()
        {
            _upstream = await EchoUpstream.StartAsync("upstream");
            var start = DateTimeOffset.UtcNow;
            _gateway = await TestGateway.StartAsync(_identity, Segments(_upstream.Url, start), devices: _devices);
            var now = _gateway.Time.GetUtcNow();

            string User(string sub, string[]? groups = null, string[]? roles = null, string[]? amr = null, TimeSpan? authAge = null, string? acr = null) =>
                _identity.User(now, sub, groups, amr, authAge, roles, acr);
            string Posture(string segment, bool compliant = true, bool managed = true, string risk = "low", string? user = "alice") =>
                _devices.Posture(now, "laptop-1", segment, compliant, managed, risk, user);

            var alice = User("alice", ["finance-staff"]);
            var get = HttpMethod.Get;
            var post = HttpMethod.Post;
            Add("finance staff read the ledger", "finance", get, "/ledger/2026", alice, null, "allowed");
            Add("no token", "finance", get, "/ledger/2026", null, null, "token-missing");
            Add("garbage token", "finance", get, "/ledger/2026", "not.a.token", null, "token-invalid");
            Add("expired token", "finance", get, "/ledger/2026",
                _identity.User(now, "alice", ["finance-staff"], notBefore: now.AddHours(-3), lifetime: TimeSpan.FromHours(1)), null, "token-expired");
            Add("token for another audience", "finance", get, "/ledger/2026", _identity.User(now, "alice", ["finance-staff"], audience: "other"), null, "token-invalid");
            Add("unsigned token", "finance", get, "/ledger/2026", TestIdentity.Unsigned(now, "alice"), null, "token-invalid");
            Add("password only", "finance", get, "/ledger/2026", User("alice", ["finance-staff"], amr: ["pwd"]), null, "mfa-required");
            Add("wrong group", "finance", get, "/ledger/2026", User("alice", ["hr-staff"]), null, "no-matching-rule");
            Add("method outside the route", "finance", HttpMethod.Delete, "/ledger/2026", alice, null, "route-not-found");
            Add("unknown path", "finance", get, "/nowhere", alice, null, "route-not-found");
            Add("controller with fresh phr login", "finance", post, "/ledger/close/2026",
                User("carol", roles: ["Controller"], authAge: TimeSpan.FromMinutes(5), acr: "phr"), null, "allowed");
            Add("controller without acr", "finance", post, "/ledger/close/2026",
                User("carol", roles: ["Controller"], authAge: TimeSpan.FromMinutes(5)), null, "acr-insufficient");
            Add("controller with hour-old login", "finance", post, "/ledger/close/2026",
                User("carol", roles: ["Controller"], authAge: TimeSpan.FromHours(1), acr: "phr"), null, "auth-too-old");
            Add("vault on a healthy laptop", "finance", get, "/vault/keys", alice, Posture("finance"), "allowed");
            Add("vault without a device", "finance", get, "/vault/keys", alice, null, "device-missing");
            Add("vault on a noncompliant laptop", "finance", get, "/vault/keys", alice, Posture("finance", compliant: false), "device-noncompliant");
            Add("vault on an unmanaged laptop", "finance", get, "/vault/keys", alice, Posture("finance", managed: false), "device-unmanaged");
            Add("vault on a high-risk laptop", "finance", get, "/vault/keys", alice, Posture("finance", risk: "high"), "device-risk-too-high");
            Add("contractor in the vault", "finance", get, "/vault/keys", User("alice", ["finance-staff", "contractors"]), Posture("finance"), "denied-by-rule");
            Add("self-signed posture", "finance", get, "/vault/keys", alice,
                _devices.Posture(now, "laptop-1", "finance", user: "alice", key: _devices.SelfMadeKey), "device-invalid");
            Add("posture of another user", "finance", get, "/vault/keys", alice, Posture("finance", user: "mallory"), "device-invalid");
            Add("hr staff on an hr laptop", "hr", get, "/payroll/alice", User("alice", ["hr-staff"]), Posture("hr"), "allowed");
            Add("hr staff on a finance laptop", "hr", get, "/payroll/alice", User("alice", ["hr-staff"]), Posture("finance"), "segment-not-allowed");
            Add("hr staff on a laptop of an unknown segment", "hr", get, "/payroll/alice", User("alice", ["hr-staff"]), Posture("lab"), "segment-not-allowed");
            Add("ledger sync reads payroll", "hr", get, "/payroll/export", _identity.Workload(now, LedgerSync), null, "allowed");
            Add("ledger sync writes payroll", "hr", post, "/payroll/export", _identity.Workload(now, LedgerSync), null, "route-not-found");
            Add("payroll engine from loopback", "hr", get, "/payroll/export", _identity.Workload(now, PayrollEngine), null, "source-mismatch");
            Add("ledger sync after its old grant", "finance", post, "/batch/7", _identity.Workload(now, LedgerSync), null, "grant-expired");
            Add("ops runner posts a batch", "finance", post, "/batch/7", _identity.Workload(now, OpsRunner), null, "allowed");
            Add("user posts a batch", "finance", post, "/batch/7", alice, null, "segment-not-allowed");
            Add("lan route from loopback", "finance", get, "/lan/printers", alice, null, "no-matching-rule");
            Add("ops staff on an ops laptop", "ops", get, "/ops/deploys", User("olga", ["ops"], amr: ["pwd"]), Posture("ops", compliant: false, user: "olga"), "allowed");
            Add("ops staff without a device", "ops", get, "/ops/deploys", User("olga", ["ops"], amr: ["pwd"]), null, "device-missing");
            Add("ops runner on the ops route", "ops", get, "/ops/deploys", _identity.Workload(now, OpsRunner), null, "segment-not-allowed");
        }

        public async Task<(string Decision, string? Reason)> SendAsync(Request request)
        {
            using var client = _gateway.Client(request.Segment);
            var answer = await Problem.SendAsync(client, request.Method, request.Path, request.Token,
                r =>
                {
                    if (request.Device is not null)
                    {
                        r.Headers.Add("X-Device-Posture", request.Device);
                    }
                });
            return answer.Status == HttpStatusCode.OK && answer.Reason is null ? ("allow", "allowed") : ("deny", answer.Reason);
        }

        public async Task<(string Decision, string? Reason)> ExplainAsync(Request request)
        {
            List<string> args =
            [
                "explain", "--config", _gateway.GatewayFile, "--segment", request.Segment, "--method", request.Method.Method,
                "--path", request.Path, "--ip", "127.0.0.1", "--json",
            ];
            if (request.Token is not null)
            {
                args.AddRange(["--token", request.Token]);
            }

            if (request.Device is not null)
            {
                args.AddRange(["--device", request.Device]);
            }

            var stdout = new StringWriter();
            var stderr = new StringWriter();
            var exit = await ZtgwCommand.InvokeAsync([.. args], stdout, stderr);
            Assert.True(exit == 0, stderr.ToString());
            using var json = JsonDocument.Parse(stdout.ToString());
            return (json.RootElement.GetProperty("decision").GetString()!, json.RootElement.GetProperty("reason").GetString());
        }

        public async Task DisposeAsync()
        {
            await _gateway.DisposeAsync();
            await _upstream.DisposeAsync();
            _identity.Dispose();
            _devices.Dispose();
        }

        private void Add(string name, string segment, HttpMethod method, string path, string? token, string? device, string expected) =>
            Requests.Add(name, new Request(segment, method, path, token, device, expected));

        // Grants sit months away from now, so the gateway's clock and explain's agree on them.
        private static Dictionary<string, string> Segments(string upstream, DateTimeOffset now) => new()
        {
            ["finance"] = $$"""
                segment: finance
                listen: http://127.0.0.1:0
                members:
                  workloads: [{{LedgerSync}}]
                  networks: [127.0.0.0/8]
                defaults: { mfa: required, device: any, maxAuthAge: 12h }
                services:
                  ledger: { destinations: [{{upstream}}] }
                routes:
                  - id: ledger
                    match: { path: "/ledger/{**rest}", methods: [GET] }
                    service: ledger
                    allow:
                      - { name: finance-staff, from: [finance], users: { groups: [finance-staff] } }
                  - id: ledger-close
                    match: { path: "/ledger/close/{**rest}" }
                    service: ledger
                    allow:
                      - { name: controllers, from: [finance], users: { roles: [Controller] }, maxAuthAge: 15m, acr: [phr] }
                  - id: vault
                    match: { path: "/vault/{**rest}" }
                    service: ledger
                    allow:
                      - name: vault-users
                        from: [finance]
                        users: { groups: [finance-staff] }
                        device: { compliant: true, managed: true, maxRisk: medium }
                    deny:
                      - { name: no-contractors, users: { groups: [contractors] } }
                  - id: batch
                    match: { path: "/batch/{id}", methods: [POST] }
                    service: ledger
                    allow:
                      - { name: ops-runner, from: [ops], workloads: [{{OpsRunner}}] }
                      - name: old-grant
                        from: [finance]
                        workloads: [{{LedgerSync}}]
                        until: {{now.AddDays(-90).UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}}
                  - id: lan
                    match: { path: "/lan/{**rest}" }
                    service: ledger
                    allow:
                      - { name: lan-only, from: ["*"], users: { groups: [finance-staff] }, networks: [10.99.0.0/16], mfa: optional }
                """,
            ["hr"] = $$"""
                segment: hr
                listen: http://127.0.0.1:0
                members:
                  workloads: [{{PayrollEngine}}]
                  networks: [10.20.0.0/16]
                services:
                  payroll: { destinations: [{{upstream}}] }
                routes:
                  - id: payroll-read
                    match: { path: "/payroll/{**rest}", methods: [GET] }
                    service: payroll
                    allow:
                      - { name: hr-staff, from: [hr], users: { groups: [hr-staff] } }
                      - name: ledger-sync
                        from: [finance]
                        workloads: [{{LedgerSync}}]
                        until: {{now.AddDays(90).UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}}
                      - { name: payroll-engine, from: [hr], workloads: [{{PayrollEngine}}] }
                """,
            ["ops"] = $$"""
                segment: ops
                listen: http://127.0.0.1:0
                members:
                  workloads: [{{OpsRunner}}]
                services:
                  deploys: { destinations: [{{upstream}}] }
                routes:
                  - id: ops
                    match: { path: "/ops/{**rest}" }
                    service: deploys
                    allow:
                      - { name: ops-staff, from: [ops, finance], users: { groups: [ops] }, mfa: optional, device: managed }
                """,
        };
    }
}
