using System.Net;
using ZtGateway.IntegrationTests.Infrastructure;

namespace ZtGateway.IntegrationTests.Enforcement;

/// <summary>Each reason code of docs/design.md section 5 that enforcement produces, through a real listener.</summary>
public sealed class ReasonCodeTests : IAsyncLifetime
{
    private readonly TestIdentity _identity = new();
    private EchoUpstream _ledger = null!;
    private EchoUpstream _payroll = null!;
    private TestGateway _gateway = null!;
    private HttpClient _finance = null!;
    private HttpClient _hr = null!;

    private DateTimeOffset Now => _gateway.Time.GetUtcNow();

    public async Task InitializeAsync()
    {
        _ledger = await EchoUpstream.StartAsync("ledger");
        _payroll = await EchoUpstream.StartAsync("payroll");
        var start = DateTimeOffset.UtcNow;
        _gateway = await TestGateway.StartAsync(_identity, Topology.Standard(_ledger.Url, _payroll.Url, start.AddDays(1)));
        _finance = _gateway.Client("finance");
        _hr = _gateway.Client("hr");
    }

    public async Task DisposeAsync()
    {
        _finance.Dispose();
        _hr.Dispose();
        await _gateway.DisposeAsync();
        await _ledger.DisposeAsync();
        await _payroll.DisposeAsync();
        _identity.Dispose();
    }

    private string Alice(string[]? amr = null, string[]? groups = null) =>
        _identity.User(Now, "alice", groups ?? ["finance-staff"], amr);

    [Fact]
    public async Task Allows_SameSegmentUserWithMfa_AndForwards()
    {
        var answer = await Problem.SendAsync(_finance, HttpMethod.Get, "/ledger/2026", Alice());

        Assert.Equal(HttpStatusCode.OK, answer.Status);
        Assert.Contains("\"service\":\"ledger\"", answer.Body, StringComparison.Ordinal);
        Assert.Single(_ledger.Requests, r => r.Path == "/ledger/2026");
    }

    [Fact]
    public async Task RouteNotFound_Is404()
    {
        var answer = await Problem.SendAsync(_finance, HttpMethod.Get, "/nowhere", Alice());

        Assert.Equal(HttpStatusCode.NotFound, answer.Status);
        Assert.Equal("route-not-found", answer.Reason);
        Assert.Equal("application/problem+json", answer.ContentType);
        Assert.False(string.IsNullOrEmpty(answer.DecisionId));
        Assert.Equal(32, answer.TraceId!.Length);
    }

    [Fact]
    public async Task MethodOutsideRoute_IsRouteNotFound()
    {
        var answer = await Problem.SendAsync(_finance, HttpMethod.Delete, "/ledger/2026", Alice());

        Assert.Equal("route-not-found", answer.Reason);
        Assert.Empty(_ledger.Requests);
    }

    [Fact]
    public async Task TokenMissing_ChallengesWithoutError()
    {
        var answer = await Problem.SendAsync(_finance, HttpMethod.Get, "/ledger/2026");

        Assert.Equal(HttpStatusCode.Unauthorized, answer.Status);
        Assert.Equal("token-missing", answer.Reason);
        Assert.Equal("Bearer realm=\"ztgw:finance\"", answer.Challenge);
    }

    [Fact]
    public async Task MfaRequired_ChallengesForInsufficientUserAuthentication()
    {
        var answer = await Problem.SendAsync(_finance, HttpMethod.Get, "/ledger/2026", Alice(amr: ["pwd"]));

        Assert.Equal(HttpStatusCode.Unauthorized, answer.Status);
        Assert.Equal("mfa-required", answer.Reason);
        Assert.Contains("error=\"insufficient_user_authentication\"", answer.Challenge, StringComparison.Ordinal);
        Assert.Empty(_ledger.Requests);
    }

    [Fact]
    public async Task AuthTooOld_ChallengesWithMaxAge()
    {
        var token = _identity.User(Now, "carol", roles: ["Controller"], acr: "phr", authAge: TimeSpan.FromHours(1));

        var answer = await Problem.SendAsync(_finance, HttpMethod.Post, "/ledger/close/q3", token);

        Assert.Equal(HttpStatusCode.Unauthorized, answer.Status);
        Assert.Equal("auth-too-old", answer.Reason);
        Assert.Contains("error=\"insufficient_user_authentication\"", answer.Challenge, StringComparison.Ordinal);
        Assert.Contains("max_age=900", answer.Challenge, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AcrInsufficient_ChallengesWithAcrValues()
    {
        var token = _identity.User(Now, "carol", roles: ["Controller"], acr: "basic", authAge: TimeSpan.FromMinutes(1));

        var answer = await Problem.SendAsync(_finance, HttpMethod.Post, "/ledger/close/q3", token);

        Assert.Equal("acr-insufficient", answer.Reason);
        Assert.Contains("acr_values=\"phr\"", answer.Challenge, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FreshControllerWithAcr_IsAllowed()
    {
        var token = _identity.User(Now, "carol", roles: ["Controller"], acr: "phr", authAge: TimeSpan.FromMinutes(1));

        var answer = await Problem.SendAsync(_finance, HttpMethod.Post, "/ledger/close/q3", token);

        Assert.Equal(HttpStatusCode.OK, answer.Status);
    }

    [Fact]
    public async Task DeviceMissing_WhenRuleNeedsCompliantDevice()
    {
        var answer = await Problem.SendAsync(_finance, HttpMethod.Get, "/vault/keys", Alice());

        Assert.Equal(HttpStatusCode.Forbidden, answer.Status);
        Assert.Equal("device-missing", answer.Reason);
        Assert.Null(answer.Challenge);
    }

    [Fact]
    public async Task DeniedByRule_BeatsAnAllowRule()
    {
        var answer = await Problem.SendAsync(_finance, HttpMethod.Get, "/archive/2019", Alice(groups: ["finance-staff", "contractors"]));

        Assert.Equal(HttpStatusCode.Forbidden, answer.Status);
        Assert.Equal("denied-by-rule", answer.Reason);
    }

    [Fact]
    public async Task NoMatchingRule_WhenSegmentNamedButPrincipalNot()
    {
        var answer = await Problem.SendAsync(_finance, HttpMethod.Get, "/reports/q3", Alice());

        Assert.Equal(HttpStatusCode.Forbidden, answer.Status);
        Assert.Equal("no-matching-rule", answer.Reason);
    }

    [Fact]
    public async Task FinanceUser_OnHrRoute_IsSegmentNotAllowed()
    {
        var answer = await Problem.SendAsync(_hr, HttpMethod.Get, "/payroll/alice", Alice(groups: ["finance-staff", "hr-staff"]));

        Assert.Equal(HttpStatusCode.Forbidden, answer.Status);
        Assert.Equal("segment-not-allowed", answer.Reason);
        Assert.Empty(_payroll.Requests);
    }

    [Fact]
    public async Task GrantedFinanceWorkload_IsAllowedOnHr_UntilTheGrantExpires()
    {
        var allowed = await Problem.SendAsync(_hr, HttpMethod.Get, "/payroll/export", _identity.Workload(Now, Topology.LedgerSync));
        Assert.Equal(HttpStatusCode.OK, allowed.Status);
        Assert.Single(_payroll.Requests);

        _gateway.Time.Advance(TimeSpan.FromDays(2));
        var expired = await Problem.SendAsync(_hr, HttpMethod.Get, "/payroll/export", _identity.Workload(Now, Topology.LedgerSync));

        Assert.Equal(HttpStatusCode.Forbidden, expired.Status);
        Assert.Equal("grant-expired", expired.Reason);
        Assert.Single(_payroll.Requests);
    }

    [Fact]
    public async Task HrWorkload_FromOutsideHrNetworks_IsSourceMismatch()
    {
        var answer = await Problem.SendAsync(_hr, HttpMethod.Get, "/payroll/export", _identity.Workload(Now, Topology.PayrollEngine));

        Assert.Equal(HttpStatusCode.Forbidden, answer.Status);
        Assert.Equal("source-mismatch", answer.Reason);
        Assert.Empty(_payroll.Requests);
    }

    [Fact]
    public async Task DeadUpstream_IsUpstreamUnavailable_AsProblem()
    {
        var answer = await Problem.SendAsync(_finance, HttpMethod.Get, "/dead/x", Alice());

        Assert.True(answer.Status is HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable, answer.Status.ToString());
        Assert.Equal("upstream-unavailable", answer.Reason);
    }
}
