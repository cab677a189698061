using System.Net;
using System.Security.Authentication;
using System.Text;
using System.Text.Json;
using ZtGateway.IntegrationTests.Infrastructure;

namespace ZtGateway.IntegrationTests.Identity;

/// <summary>
/// X.509-SVIDs and certificate-bound tokens over real mTLS listeners: certificates made in the test, real TLS
/// handshakes on loopback, real signed tokens, the audit trail and the assertion the upstream gets.
/// </summary>
public sealed class WorkloadCertificateTests : IAsyncLifetime
{
    private const string LedgerSync = "spiffe://corp.test/finance/ledger-sync";
    private const string Reporter = "spiffe://corp.test/finance/reporter";
    private const string Roamer = "spiffe://corp.test/finance/roamer";
    private const string Foreign = "spiffe://other.test/finance/ledger-sync";

    private readonly TestIdentity _identity = new();
    private readonly WorkloadPki _pki = new();
    private EchoUpstream _payroll = null!;
    private TestGateway _gateway = null!;

    private DateTimeOffset Now => _gateway.Time.GetUtcNow();

    public async Task InitializeAsync()
    {
        _payroll = await EchoUpstream.StartAsync("payroll");
        var gatewayYaml = TestGateway.DefaultGatewayYaml.Replace(
            "device:\n", "  workloadCertificates:\n    trustDomains: [corp.test]\ndevice:\n", StringComparison.Ordinal);
        _gateway = await TestGateway.StartAsync(_identity, new Dictionary<string, string>
        {
            // Loopback is finance's network, but only 127.0.0.1: a finance workload calling from 127.0.0.2 is out of place.
            ["finance"] = $$"""
                segment: finance
                listen: http://127.0.0.1:0
                members:
                  workloads: [{{LedgerSync}}, {{Reporter}}, {{Roamer}}]
                  networks: [127.0.0.1/32]
                routes: []
                """,
            ["hr"] = $$"""
                segment: hr
                listen: https://127.0.0.1:0
                {{_pki.TlsSection()}}
                members:
                  networks: [10.20.0.0/16]
                services:
                  payroll:
                    destinations: [{{_payroll.Url}}]
                routes:
                  - id: payroll-read
                    match: { path: "/payroll/{**rest}", methods: [GET] }
                    service: payroll
                    allow:
                      - name: ledger-sync
                        from: [finance]
                        workloads: [{{LedgerSync}}, {{Roamer}}]
                      - name: finance-users
                        from: [finance]
                        users: { groups: [finance-staff] }
                        mfa: optional
                        device: any
                  - id: payroll-admin
                    match: { path: "/payroll/admin/{**rest}" }
                    service: payroll
                    allow:
                      - name: admins
                        from: [finance]
                        users: { roles: [PayrollAdmin] }
                        mfa: optional
                        device: any
                        boundToken: true
                      - name: reporter
                        from: [finance]
                        workloads: [{{Reporter}}]
                        boundToken: true
                """,
        }, gatewayYaml);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _payroll.DisposeAsync();
        _pki.Dispose();
        _identity.Dispose();
    }

    [Fact]
    public async Task AWorkloadWithOnlyItsSvid_IsAllowedUnderItsGrant_AndTheUpstreamIsToldWhoItIs()
    {
        using var client = Client(_pki.Svid(LedgerSync));

        var answer = await Problem.SendAsync(client, HttpMethod.Get, "/payroll/2026-11");

        Assert.Equal(HttpStatusCode.OK, answer.Status);
        var forwarded = Assert.Single(_payroll.Requests);
        var assertion = Claims(forwarded.Headers["X-ZT-Assertion"]);
        Assert.Equal(LedgerSync, assertion.GetProperty("sub").GetString());
        Assert.Equal("workload", assertion.GetProperty("principal_type").GetString());
        Assert.Equal("finance", assertion.GetProperty("src_segment").GetString());
        Assert.Equal("ledger-sync", assertion.GetProperty("rule").GetString());

        var line = AuditLine(assertion.GetProperty("decision_id").GetString()!);
        Assert.Equal(LedgerSync, line.GetProperty("actor").GetProperty("user").GetProperty("uid").GetString());
        Assert.Equal("allowed", line.GetProperty("status_detail").GetString());
    }

    [Fact]
    public async Task AWorkloadWithItsSvid_FromOutsideItsSegmentsNetworks_IsSourceMismatch()
    {
        using var client = Client(_pki.Svid(LedgerSync), from: IPAddress.Parse("127.0.0.2"));

        var answer = await Problem.SendAsync(client, HttpMethod.Get, "/payroll/2026-11");

        Assert.Equal((HttpStatusCode.Forbidden, "source-mismatch"), (answer.Status, answer.Reason));
        Assert.Empty(_payroll.Requests);
    }

    [Fact]
    public async Task AnSvidOfAnotherTrustDomain_IsTokenInvalid()
    {
        using var client = Client(_pki.Svid(Foreign));

        var answer = await Problem.SendAsync(client, HttpMethod.Get, "/payroll/2026-11");

        Assert.Equal((HttpStatusCode.Unauthorized, "token-invalid"), (answer.Status, answer.Reason));
        Assert.Equal("Bearer realm=\"ztgw:hr\", error=\"invalid_token\"", answer.Challenge);
        Assert.Empty(_payroll.Requests);
    }

    [Fact]
    public async Task AnSvidOfAnotherTrustDomain_BesideAValidUserToken_IsIgnored()
    {
        using var client = Client(_pki.Svid(Foreign));

        var answer = await Problem.SendAsync(client, HttpMethod.Get, "/payroll/2026-11", _identity.User(Now, "carol", ["finance-staff"]));

        Assert.Equal(HttpStatusCode.OK, answer.Status);
        Assert.Equal("carol", Claims(Assert.Single(_payroll.Requests).Headers["X-ZT-Assertion"]).GetProperty("sub").GetString());
    }

    [Fact]
    public async Task AnSvidSignedByAnUnknownCa_IsRefusedByTheHandshake()
    {
        using var client = Client(_pki.Svid(LedgerSync, untrusted: true));

        var refused = await Assert.ThrowsAnyAsync<Exception>(() => client.GetAsync("/payroll/2026-11"));

        Assert.True(refused is HttpRequestException or AuthenticationException or IOException, refused.ToString());
        Assert.Empty(_payroll.Requests);
    }

    [Fact]
    public async Task ACertificateAndATokenNamingDifferentWorkloads_AreTokenInvalid()
    {
        using var client = Client(_pki.Svid(LedgerSync));

        var answer = await Problem.SendAsync(client, HttpMethod.Get, "/payroll/2026-11", _identity.Workload(Now, Roamer));

        Assert.Equal((HttpStatusCode.Unauthorized, "token-invalid"), (answer.Status, answer.Reason));
        Assert.Empty(_payroll.Requests);
    }

    [Fact]
    public async Task ACertificateAndATokenNamingTheSameWorkload_AreAllowed()
    {
        using var client = Client(_pki.Svid(LedgerSync));

        var answer = await Problem.SendAsync(client, HttpMethod.Get, "/payroll/2026-11", _identity.Workload(Now, LedgerSync));

        Assert.Equal(HttpStatusCode.OK, answer.Status);
    }

    [Fact]
    public async Task ABoundToken_IsAllowedWithItsCertificate_AndRefusedWithoutIt()
    {
        var device = _pki.DeviceCertificate();
        var bound = BoundAdmin(WorkloadPki.Thumbprint(device));

        using (var withIt = Client(device))
        {
            Assert.Equal(HttpStatusCode.OK, (await Problem.SendAsync(withIt, HttpMethod.Get, "/payroll/admin/run", bound)).Status);
        }

        const string Expected =
            "Bearer realm=\"ztgw:hr\", error=\"invalid_token\", error_description=\"the token is bound to a client certificate this connection did not present\"";
        using (var without = Client(null))
        {
            var replayed = await Problem.SendAsync(without, HttpMethod.Get, "/payroll/admin/run", bound);
            Assert.Equal((HttpStatusCode.Unauthorized, "token-invalid", Expected), (replayed.Status, replayed.Reason, replayed.Challenge));
        }

        using (var another = Client(_pki.DeviceCertificate()))
        {
            var replayed = await Problem.SendAsync(another, HttpMethod.Get, "/payroll/admin/run", bound);
            Assert.Equal((HttpStatusCode.Unauthorized, "token-invalid", Expected), (replayed.Status, replayed.Reason, replayed.Challenge));
        }

        Assert.Single(_payroll.Requests);
    }

    [Fact]
    public async Task BoundTokenTrue_RefusesABearerToken_WithTokenUnbound_AndAuditsIt()
    {
        using var client = Client(_pki.DeviceCertificate());

        var answer = await Problem.SendAsync(client, HttpMethod.Get, "/payroll/admin/run",
            _identity.User(Now, "alice", roles: ["PayrollAdmin"], amr: ["pwd"]));

        Assert.Equal((HttpStatusCode.Unauthorized, "token-unbound"), (answer.Status, answer.Reason));
        Assert.Equal(
            "Bearer realm=\"ztgw:hr\", error=\"invalid_token\", error_description=\"a certificate-bound token is required\"",
            answer.Challenge);
        Assert.Equal("token-unbound", AuditLine(answer.DecisionId!).GetProperty("unmapped").GetProperty("ztgw").GetProperty("reason").GetString());
        Assert.Empty(_payroll.Requests);
    }

    [Fact]
    public async Task AWorkloadCertificate_SatisfiesBoundTokenTrue_AndItsBearerTokenDoesNot()
    {
        using (var withSvid = Client(_pki.Svid(Reporter)))
        {
            Assert.Equal(HttpStatusCode.OK, (await Problem.SendAsync(withSvid, HttpMethod.Get, "/payroll/admin/report")).Status);
        }

        using var withToken = Client(null);
        var answer = await Problem.SendAsync(withToken, HttpMethod.Get, "/payroll/admin/report", _identity.Workload(Now, Reporter));

        Assert.Equal("token-unbound", answer.Reason);
        Assert.Single(_payroll.Requests);
    }

    [Fact]
    public async Task NoCredentialAtAll_IsTokenMissing_AndADeviceCertificateIsNoCredential()
    {
        using var none = Client(null);
        using var device = Client(_pki.DeviceCertificate());

        Assert.Equal("token-missing", (await Problem.SendAsync(none, HttpMethod.Get, "/payroll/2026-11")).Reason);
        Assert.Equal("token-missing", (await Problem.SendAsync(device, HttpMethod.Get, "/payroll/2026-11")).Reason);
    }

    private HttpClient Client(System.Security.Cryptography.X509Certificates.X509Certificate2? certificate, IPAddress? from = null) =>
        _pki.Client(_gateway.Listener("hr"), certificate, from);

    // An admin's token bound to the certificate whose thumbprint is given.
    private string BoundAdmin(string thumbprint) => _identity.Sign(Now, new Dictionary<string, object>
    {
        ["sub"] = "alice",
        ["roles"] = new[] { "PayrollAdmin" },
        ["amr"] = new[] { "pwd" },
        ["auth_time"] = Now.AddMinutes(-5).ToUnixTimeSeconds(),
        ["cnf"] = new Dictionary<string, object> { ["x5t#S256"] = thumbprint },
    });

    private static JsonElement Claims(string jwt)
    {
        var payload = jwt.Split('.')[1].Replace('-', '+').Replace('_', '/');
        payload = payload.PadRight(payload.Length + ((4 - (payload.Length % 4)) % 4), '=');
        return JsonDocument.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(payload))).RootElement.Clone();
    }

    private JsonElement AuditLine(string decisionId) =>
        AuditLines.ReadWithoutPolicyChanges(_gateway.AuditFile)
            .Select(l => JsonDocument.Parse(l).RootElement.Clone())
            .Single(l => l.GetProperty("metadata").GetProperty("uid").GetString() == decisionId);
}
