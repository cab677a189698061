using System.Net;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using ZtGateway.IntegrationTests.Infrastructure;

namespace ZtGateway.IntegrationTests.Device;

/// <summary>Device posture through a real listener: only a verified assertion places a user and satisfies a rule.</summary>
public sealed class DevicePostureTests : IAsyncLifetime
{
    private readonly TestIdentity _identity = new();
    private readonly TestDevices _devices = new();
    private EchoUpstream _payroll = null!;
    private TestGateway _gateway = null!;
    private HttpClient _hr = null!;

    private DateTimeOffset Now => _gateway.Time.GetUtcNow();

    public async Task InitializeAsync()
    {
        _payroll = await EchoUpstream.StartAsync("payroll");
        var segments = new Dictionary<string, string>
        {
            ["hr"] = $$"""
                segment: hr
                listen: http://127.0.0.1:0
                members:
                  networks: [10.20.0.0/16]
                services:
                  payroll: { destinations: [{{_payroll.Url}}] }
                routes:
                  - id: payroll-read
                    match: { path: "/payroll/{**rest}", methods: [GET] }
                    service: payroll
                    allow:
                      - { name: hr-staff, from: [hr], users: { groups: [hr-staff] } }
                  - id: payroll-admin
                    match: { path: "/payroll/admin/{**rest}" }
                    service: payroll
                    allow:
                      - name: payroll-admins
                        from: [hr]
                        users: { roles: [PayrollAdmin] }
                        device: { compliant: true, managed: true, maxRisk: low }
                  - id: secure
                    match: { path: "/secure/{**rest}" }
                    service: payroll
                    allow:
                      - { name: anyone-on-a-compliant-device, from: ["*"], users: { groups: [hr-staff] } }
                  - id: open
                    match: { path: "/open/{**rest}" }
                    service: payroll
                    allow:
                      - { name: anyone, from: ["*"], users: { groups: [hr-staff] }, device: any }
                """,
            ["finance"] = """
                segment: finance
                listen: http://127.0.0.1:0
                members:
                  networks: [10.10.0.0/16]
                services:
                  ledger: { destinations: ["http://127.0.0.1:9"] }
                routes:
                  - id: ledger
                    match: { path: "/ledger/{**rest}" }
                    service: ledger
                    allow:
                      - { name: staff, from: [finance], users: { groups: [finance-staff] } }
                """,
        };
        _gateway = await TestGateway.StartAsync(_identity, segments, devices: _devices);
        _hr = _gateway.Client("hr");
    }

    public async Task DisposeAsync()
    {
        _hr.Dispose();
        await _gateway.DisposeAsync();
        await _payroll.DisposeAsync();
        _identity.Dispose();
        _devices.Dispose();
    }

    private string Alice(string[]? roles = null) => _identity.User(Now, "alice", ["hr-staff"], roles: roles);

    private Task<Problem> Send(string path, string token, string? posture, Action<HttpRequestMessage>? more = null) =>
        Problem.SendAsync(_hr, HttpMethod.Get, path, token, request =>
        {
            if (posture is not null)
            {
                request.Headers.Add("X-Device-Posture", posture);
            }

            more?.Invoke(request);
        });

    public static TheoryData<string, string, string> PostureCases() => new()
    {
        { "missing", "/secure/x", "device-missing" },
        { "forged", "/payroll/x", "device-invalid" },
        { "expired", "/payroll/x", "device-invalid" },
        { "too-long-lived", "/payroll/x", "device-invalid" },
        { "wrong-audience", "/payroll/x", "device-invalid" },
        { "bound-to-another-user", "/payroll/x", "device-invalid" },
        { "garbage", "/payroll/x", "device-invalid" },
        { "non-compliant", "/payroll/x", "device-noncompliant" },
        { "unmanaged", "/payroll/admin/x", "device-unmanaged" },
        { "risky", "/payroll/admin/x", "device-risk-too-high" },
        { "forged-on-device-any-route", "/open/x", "device-invalid" },
    };

    [Theory]
    [MemberData(nameof(PostureCases))]
    public async Task Posture_GivesItsReason(string kind, string path, string reason)
    {
        var posture = kind switch
        {
            "missing" => null,
            "forged" or "forged-on-device-any-route" => _devices.Posture(Now, "laptop-7", "hr", key: _devices.SelfMadeKey),
            "expired" => _devices.Posture(Now, "laptop-7", "hr", issuedAt: Now.AddMinutes(-30), lifetime: TimeSpan.FromMinutes(10)),
            "too-long-lived" => _devices.Posture(Now, "laptop-7", "hr", lifetime: TimeSpan.FromHours(8)),
            "wrong-audience" => _devices.Posture(Now, "laptop-7", "hr", audience: "another-gateway"),
            "bound-to-another-user" => _devices.Posture(Now, "laptop-7", "hr", user: "mallory"),
            "garbage" => "definitely-not-a-jwt",
            "non-compliant" => _devices.Posture(Now, "laptop-7", "hr", compliant: false),
            "unmanaged" => _devices.Posture(Now, "laptop-7", "hr", managed: false),
            "risky" => _devices.Posture(Now, "laptop-7", "hr", risk: "medium"),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };

        var answer = await Send(path, Alice(["PayrollAdmin"]), posture);

        Assert.Equal(HttpStatusCode.Forbidden, answer.Status);
        Assert.Equal(reason, answer.Reason);
        Assert.Empty(_payroll.Requests);
    }

    [Fact]
    public async Task PlainComplianceHeaders_AreNeverBelieved()
    {
        var answer = await Send("/secure/x", Alice(), null, r =>
        {
            r.Headers.Add("X-Device-Compliant", "true");
            r.Headers.Add("X-Device-Segment", "hr");
            r.Headers.Add("X-Device-Id", "laptop-7");
        });

        Assert.Equal("device-missing", answer.Reason);
    }

    [Fact]
    public async Task ValidPosture_BoundToTheUser_IsAllowed_OnTheAdminRoute()
    {
        var answer = await Send("/payroll/admin/run", Alice(["PayrollAdmin"]), _devices.Posture(Now, "laptop-7", "hr", user: "alice"));

        Assert.Equal(HttpStatusCode.OK, answer.Status);
        Assert.Single(_payroll.Requests);
    }

    [Fact]
    public async Task CachedPosture_PastItsExpiry_IsRefused()
    {
        var posture = _devices.Posture(Now, "hr-lt-3", "hr", user: "alice", lifetime: TimeSpan.FromMinutes(10));
        Assert.Equal(HttpStatusCode.OK, (await Send("/payroll/x", Alice(), posture)).Status);

        _gateway.Time.Advance(TimeSpan.FromMinutes(11));
        var later = await Send("/payroll/x", Alice(), posture);

        Assert.Equal("device-invalid", later.Reason);
    }

    [Fact]
    public async Task CachedPosture_BoundToAlice_IsStillRefusedForBob()
    {
        var posture = _devices.Posture(Now, "hr-lt-3", "hr", user: "alice");
        Assert.Equal(HttpStatusCode.OK, (await Send("/payroll/x", Alice(), posture)).Status);

        var bob = await Send("/payroll/x", _identity.User(Now, "bob", ["hr-staff"]), posture);

        Assert.Equal("device-invalid", bob.Reason);
    }

    // The seed scenario: a finance workstation cannot reach hr, whoever uses it and whatever it claims.
    [Fact]
    public async Task FinanceWorkstation_IsContained_AndAnHrDeviceIsNot()
    {
        var fromFinance = await Send("/payroll/x", Alice(), _devices.Posture(Now, "fin-ws-12", "finance", user: "alice"));
        Assert.Equal(HttpStatusCode.Forbidden, fromFinance.Status);
        Assert.Equal("segment-not-allowed", fromFinance.Reason);

        var fromHr = await Send("/payroll/x", Alice(), _devices.Posture(Now, "hr-lt-3", "hr", user: "alice"));
        Assert.Equal(HttpStatusCode.OK, fromHr.Status);

        var selfMade = await Send("/payroll/x", Alice(), _devices.Posture(Now, "fin-ws-12", "hr", user: "alice", key: _devices.SelfMadeKey));
        Assert.Equal(HttpStatusCode.Forbidden, selfMade.Status);
        Assert.Equal("device-invalid", selfMade.Reason);

        Assert.Single(_payroll.Requests);
    }

    [Fact]
    public async Task AllowedRequest_CarriesAFreshGatewayAssertion_VerifiableWithThePublishedKeys()
    {
        var answer = await Send("/payroll/x", Alice(), _devices.Posture(Now, "hr-lt-3", "hr", user: "alice"));
        Assert.Equal(HttpStatusCode.OK, answer.Status);
        var seen = Assert.Single(_payroll.Requests);

        var jwks = await _hr.GetStringAsync("/.well-known/ztgw/jwks.json");
        var result = await new JsonWebTokenHandler().ValidateTokenAsync(seen.Headers["X-ZT-Assertion"], new TokenValidationParameters
        {
            ValidIssuer = "https://ztgw.test",
            ValidAudience = "payroll",
            IssuerSigningKeys = new JsonWebKeySet(jwks).GetSigningKeys(),
            ValidAlgorithms = [SecurityAlgorithms.EcdsaSha256],
            LifetimeValidator = (_, expires, _, _) => expires > Now.UtcDateTime,
        });

        Assert.True(result.IsValid, result.Exception?.Message);
        var claims = result.Claims;
        Assert.Equal("alice", claims["sub"]);
        Assert.Equal("user", claims["principal_type"]);
        Assert.Equal("hr", claims["src_segment"]);
        Assert.Equal("hr", claims["dst_segment"]);
        Assert.Equal("payroll-read", claims["route"]);
        Assert.Equal("hr-staff", claims["rule"]);
        Assert.Equal("hr-lt-3", claims["device_id"]);
        Assert.False(string.IsNullOrEmpty(claims["jti"] as string));
        var token = new JsonWebToken(seen.Headers["X-ZT-Assertion"]);
        Assert.Equal(TimeSpan.FromSeconds(60), token.ValidTo - token.IssuedAt);
        Assert.Equal("ES256", token.Alg);
        using var doc = JsonDocument.Parse(jwks);
        Assert.DoesNotContain("\"d\"", jwks, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SameTokenAndDevice_ShareOneAssertion_ForItsReuseWindowOnly()
    {
        var token = Alice();
        var laptop = _devices.Posture(Now, "hr-lt-3", "hr", user: "alice");
        var tablet = _devices.Posture(Now, "hr-tab-9", "hr", user: "alice");

        Assert.Equal(HttpStatusCode.OK, (await Send("/payroll/x", token, laptop)).Status);
        Assert.Equal(HttpStatusCode.OK, (await Send("/payroll/x", token, laptop)).Status);
        Assert.Equal(HttpStatusCode.OK, (await Send("/payroll/x", token, tablet)).Status);
        _gateway.Time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(HttpStatusCode.OK, (await Send("/payroll/x", token, laptop)).Status);

        var seen = _payroll.Requests.Select(r => new JsonWebToken(r.Headers["X-ZT-Assertion"])).ToList();
        Assert.Equal(4, seen.Count);
        Assert.Equal(seen[0].EncodedToken, seen[1].EncodedToken);
        Assert.Equal("hr-tab-9", seen[2].GetClaim("device_id").Value);
        Assert.NotEqual(seen[0].Id, seen[2].Id);
        Assert.NotEqual(seen[0].Id, seen[3].Id);
        Assert.NotEqual(seen[0].GetClaim("decision_id").Value, seen[3].GetClaim("decision_id").Value);
        Assert.Equal(Now.UtcDateTime, seen[3].IssuedAt, TimeSpan.FromSeconds(1));
    }
}
