using Microsoft.Extensions.Time.Testing;
using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Engine;

namespace ZtGateway.Policy.Tests.Engine;

public class ExplainTests
{
    private readonly PolicyEngine demo = TestRequests.Engine(DemoPolicy.Create());

    private static PolicyEngine TracedEngine(FakeTimeProvider? time = null) => TestRequests.Engine(
        TestPolicy.Policy(
            TestPolicy.Segment(
                    "hr",
                    TestPolicy.Route(
                            "docs",
                            "/docs/{**rest}",
                            TestPolicy.Users("from-hr", ["hr"], groups: ["hr-staff"]),
                            TestPolicy.Workloads("sync", ["finance"], DemoPolicy.LedgerSync),
                            TestPolicy.Users("writers", ["finance"], groups: ["hr-staff"]) with { Methods = ["POST"] },
                            TestPolicy.Users("office", ["finance"], groups: ["hr-staff"]) with { Networks = TestPolicy.Networks("10.30.5.0/24") },
                            TestPolicy.Users("temp", ["finance"], groups: ["hr-staff"]) with { Until = TestPolicy.Now.AddDays(-1) },
                            TestPolicy.Users("auditors", ["finance"], roles: ["Auditor"]),
                            TestPolicy.Users("finance-staff", ["finance"], groups: ["hr-staff"]))
                        .WithDeny(TestPolicy.Users("no-contractors", null, groups: ["contractors"])))
                .WithMembers(networks: ["10.20.0.0/16"]),
            TestPolicy.Segment("finance").WithMembers([DemoPolicy.LedgerSync], ["10.30.0.0/16"])),
        time);

    [Fact]
    public void Explain_TracesEveryRuleDenyFirstWithTheConditionThatFailed()
    {
        var request = TestRequests.AliceRequest("/docs/a")
            .From("10.30.1.1")
            .WithDevice(TestRequests.HrLaptop with { Segment = "finance" })
            .WithPrincipal(p => p with { Amr = ["pwd"] });

        var explanation = TracedEngine().Explain(request);

        Assert.Equal(ReasonCode.MfaRequired, explanation.Decision.Reason);
        Assert.Equal("finance-staff", explanation.Decision.RuleName);
        Assert.Equal(
            ["no-contractors", "from-hr", "sync", "writers", "office", "temp", "auditors", "finance-staff"],
            explanation.Rules.Select(r => r.Rule));
        Assert.Equal([true, false, false, false, false, false, false, false], explanation.Rules.Select(r => r.IsDeny));
        Assert.Equal([false, false, false, false, false, false, false, true], explanation.Rules.Select(r => r.Applies));
        Assert.Equal(
            [
                "user alice has none of groups [contractors], roles [], subjects []",
                "from [hr] does not include source segment finance",
                "principal is a user; rule names workloads",
                "method GET is not in methods [POST]",
                "client address 10.30.1.1 is not in networks [10.30.5.0/24]",
                "grant expired at 2026-05-31T12:00:00Z",
                "user alice has none of groups [], roles [Auditor], subjects []",
                "requires mfa (face, fpt, hwk, mfa, otp, sc, swk); amr is [pwd]",
            ],
            explanation.Rules.Select(r => r.Detail));
        Assert.Equal(ReasonCode.MfaRequired, explanation.Rules[^1].Outcome);
        Assert.All(explanation.Rules.SkipLast(1), r => Assert.Null(r.Outcome));
        Assert.Equal(TracedEngine().Decide(request), explanation.Decision);
    }

    [Fact]
    public void Explain_SaysWhichRuleAllowed()
    {
        var explanation = demo.Explain(TestRequests.AliceRequest());

        Assert.True(explanation.Decision.Allowed);
        var allowed = Assert.Single(explanation.Rules, r => r.Outcome == ReasonCode.Allowed);
        Assert.Equal("hr-staff", allowed.Rule);
        Assert.Equal("applies and every requirement holds", allowed.Detail);
        var workloadRule = Assert.Single(explanation.Rules, r => r.Rule == "ledger-sync");
        Assert.False(workloadRule.Applies);
        Assert.Equal("from [finance] does not include source segment hr", workloadRule.Detail);
    }

    [Fact]
    public void Explain_TracesEveryRuleEvenAfterADenyRuleDecided()
    {
        var request = TestRequests.AliceRequest("/docs/a").WithPrincipal(p => p with { Groups = ["hr-staff", "contractors"] });

        var explanation = TracedEngine().Explain(request);

        Assert.Equal(ReasonCode.DeniedByRule, explanation.Decision.Reason);
        Assert.Equal("no-contractors", explanation.Decision.RuleName);
        Assert.Equal(8, explanation.Rules.Count);
        Assert.Equal("applies: the request is denied", explanation.Rules[0].Detail);
        Assert.Equal(ReasonCode.Allowed, explanation.Rules[1].Outcome);
    }

    [Fact]
    public void Explain_WritesAgesInThePolicySyntax_ToTheWholeSecond()
    {
        var engine = TestRequests.Engine(DemoPolicy.Create());
        var admin = TestRequests.AliceRequest("/payroll/admin/run").WithPrincipal(p => p with { Roles = ["PayrollAdmin"], Acr = "phr" });

        string DetailFor(RequestContext request) => Assert.Single(engine.Explain(request).Rules, r => r.Rule == "payroll-admins").Detail;

        Assert.Equal(
            "requires authentication within 15m (clock skew 1m); auth_time 2026-05-30T12:00:00Z is 2d old",
            DetailFor(admin.WithPrincipal(p => p with { AuthTime = TestPolicy.Now.AddDays(-2) })));
        Assert.Equal(
            "requires authentication within 15m (clock skew 1m); auth_time 2026-06-01T11:43:19Z is 1000s old",
            DetailFor(admin.WithPrincipal(p => p with { AuthTime = TestPolicy.Now.AddSeconds(-1000.25) })));
    }

    [Fact]
    public void Explain_DescribesRequirementFailures()
    {
        var engine = TestRequests.Engine(DemoPolicy.Create());
        var admin = TestRequests.AliceRequest("/payroll/admin/run").WithPrincipal(p => p with { Roles = ["PayrollAdmin"], Acr = "phr" });

        string DetailFor(RequestContext request) => Assert.Single(engine.Explain(request).Rules, r => r.Rule == "payroll-admins").Detail;

        Assert.Equal(
            "requires acr in [phr]; acr is absent",
            DetailFor(admin.WithPrincipal(p => p with { Acr = null })));
        Assert.Equal(
            "requires authentication within 15m (clock skew 1m); auth_time 2026-06-01T11:00:00Z is 1h old",
            DetailFor(admin));
        Assert.Equal(
            "requires authentication within 15m; auth_time is missing",
            DetailFor(admin.WithPrincipal(p => p with { AuthTime = null })));

        var fresh = admin.WithPrincipal(p => p with { AuthTime = TestPolicy.Now.AddMinutes(-1) });
        Assert.Equal("a signal requires this principal to authenticate again", DetailFor(fresh with { StepUpRequired = true }));
        Assert.Equal(
            "requires a verified device; none was presented",
            DetailFor(fresh.WithDevice(null)));
        Assert.Equal(
            "requires a compliant device; device laptop-1 is not compliant",
            DetailFor(fresh.WithDevice(TestRequests.HrLaptop with { Compliant = false })));
        Assert.Equal(
            "requires a managed device; device laptop-1 is not managed",
            DetailFor(fresh.WithDevice(TestRequests.HrLaptop with { Managed = false })));
        Assert.Equal(
            "requires device risk at most low; device laptop-1 reports medium",
            DetailFor(fresh.WithDevice(TestRequests.HrLaptop with { Risk = RiskLevel.Medium })));
    }

    [Fact]
    public void Explain_DescribesGrantExpiryWithTheGrantInstant()
    {
        var time = new FakeTimeProvider(DemoPolicy.LedgerGrantEnds.AddSeconds(1));
        var engine = TestRequests.Engine(DemoPolicy.Create(), time);

        var explanation = engine.Explain(TestRequests.For(TestRequests.Workload(DemoPolicy.LedgerSync), address: "10.30.0.7"));

        Assert.Equal(ReasonCode.GrantExpired, explanation.Decision.Reason);
        var grant = Assert.Single(explanation.Rules, r => r.Rule == "ledger-sync");
        Assert.False(grant.Applies);
        Assert.Equal("grant expired at 2026-12-31T00:00:00Z", grant.Detail);
    }

    [Fact]
    public void Explain_DescribesWorkloadsNetworksAndRulesWithoutFrom()
    {
        var engine = TestRequests.Engine(TestPolicy.Policy(
            TestPolicy.Segment(
                "hr",
                TestPolicy.Route(
                    "docs",
                    "/docs/{**rest}",
                    TestPolicy.Workloads("sync", ["*"], "spiffe://corp.example/a"),
                    TestPolicy.Users("nofrom", null, groups: ["hr-staff"]),
                    TestPolicy.Workloads("pinned", ["*"], "other") with { Networks = TestPolicy.Networks("10.1.0.0/16") },
                    TestPolicy.Users("people", ["*"], groups: ["hr-staff"])))));

        var workload = engine.Explain(TestRequests.For(TestRequests.Workload("other"), "/docs/a", address: null));
        var user = engine.Explain(TestRequests.For(TestRequests.Alice, "/docs/a"));

        Assert.Equal(
            [
                "workload other is not in workloads [spiffe://corp.example/a]",
                "rule names no source segments (no from)",
                "client address is unknown; rule is limited to networks [10.1.0.0/16]",
                "principal is a workload; rule names users",
            ],
            workload.Rules.Select(r => r.Detail));
        Assert.Equal(ReasonCode.NoMatchingRule, workload.Decision.Reason);
        Assert.Equal(ReasonCode.DeviceMissing, user.Decision.Reason);
    }

    [Theory]
    [InlineData(TokenStatus.Missing)]
    [InlineData(TokenStatus.Revoked)]
    public void Explain_HasNoRuleTracesWhenRefusedBeforeTheRules(TokenStatus token)
    {
        var explanation = demo.Explain(TestRequests.AliceRequest() with { Token = token });

        Assert.Empty(explanation.Rules);
        Assert.Equal("payroll-read", explanation.Decision.RouteId);
    }

    [Fact]
    public void Explain_HasNoRuleTracesForSourceMismatch()
    {
        var explanation = demo.Explain(TestRequests.For(TestRequests.Workload(DemoPolicy.LedgerSync), address: "10.20.0.1"));

        Assert.Equal(ReasonCode.SourceMismatch, explanation.Decision.Reason);
        Assert.Empty(explanation.Rules);
    }
}
