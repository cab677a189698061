using Microsoft.Extensions.Time.Testing;
using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Engine;

namespace ZtGateway.Policy.Tests.Engine;

public class PolicyEngineTests
{
    private readonly PolicyEngine demo = TestRequests.Engine(DemoPolicy.Create());

    [Fact]
    public void Allows_HrStaffReadingPayroll()
    {
        var decision = EngineAssert.Decide(demo, TestRequests.AliceRequest());

        Assert.True(decision.Allowed);
        Assert.Equal(ReasonCode.Allowed, decision.Reason);
        Assert.Equal("hr", decision.DestinationSegment);
        Assert.Equal("hr", decision.SourceSegment);
        Assert.Equal("payroll-read", decision.RouteId);
        Assert.Equal("payroll", decision.Service);
        Assert.Equal("hr-staff", decision.RuleName);
        Assert.Empty(decision.AcrValues);
        Assert.Null(decision.MaxAuthAge);
    }

    [Fact]
    public void Decide_HandsOutTheSameDecisionForTheSameOutcome()
    {
        var first = demo.Decide(TestRequests.AliceRequest("/payroll/a"));
        var second = demo.Decide(TestRequests.AliceRequest("/payroll/b"));

        Assert.Same(first, second);
    }

    [Theory]
    [InlineData(TokenStatus.Missing, ReasonCode.TokenMissing)]
    [InlineData(TokenStatus.Invalid, ReasonCode.TokenInvalid)]
    [InlineData(TokenStatus.Expired, ReasonCode.TokenExpired)]
    [InlineData(TokenStatus.Revoked, ReasonCode.TokenRevoked)]
    public void Denies_BadToken(TokenStatus token, ReasonCode expected)
    {
        var decision = EngineAssert.Decide(demo, TestRequests.AliceRequest() with { Token = token });

        Assert.False(decision.Allowed);
        Assert.Equal(expected, decision.Reason);
        Assert.Equal("payroll-read", decision.RouteId);
        Assert.Equal("payroll", decision.Service);
        Assert.Equal(string.Empty, decision.SourceSegment);
        Assert.Null(decision.RuleName);
    }

    [Fact]
    public void Denies_ValidTokenWithoutPrincipalAsInvalid()
    {
        var decision = EngineAssert.Decide(demo, TestRequests.AliceRequest() with { Principal = null });

        Assert.Equal(ReasonCode.TokenInvalid, decision.Reason);
    }

    [Fact]
    public void Denies_RouteBeforeToken()
    {
        var decision = EngineAssert.Decide(demo, TestRequests.For(null, "/nowhere"));

        Assert.Equal(ReasonCode.RouteNotFound, decision.Reason);
    }

    [Fact]
    public void Denies_QuarantinedPrincipal()
    {
        var decision = EngineAssert.Decide(demo, TestRequests.AliceRequest() with { PrincipalQuarantined = true, DeviceQuarantined = true });

        Assert.Equal(ReasonCode.PrincipalQuarantined, decision.Reason);
        Assert.Equal(string.Empty, decision.SourceSegment);
    }

    [Fact]
    public void Denies_QuarantinedDevice()
    {
        var decision = EngineAssert.Decide(demo, TestRequests.AliceRequest() with { DeviceQuarantined = true });

        Assert.Equal(ReasonCode.DeviceQuarantined, decision.Reason);
    }

    [Fact]
    public void Denies_TokenBeforeQuarantine()
    {
        var decision = EngineAssert.Decide(demo, TestRequests.AliceRequest() with { Token = TokenStatus.Expired, PrincipalQuarantined = true });

        Assert.Equal(ReasonCode.TokenExpired, decision.Reason);
    }

    [Fact]
    public void Denies_InvalidDeviceEvenWhenNoRuleNeedsOne()
    {
        var engine = TestRequests.Engine(TestPolicy.Policy(TestPolicy.Segment(
            "hr", TestPolicy.Route("open", "/{**rest}", TestPolicy.Users("anyone", ["*"], groups: ["hr-staff"]).Relaxed()))));
        var request = TestRequests.For(TestRequests.Alice) with { DeviceStatus = DeviceStatus.Invalid };

        var decision = EngineAssert.Decide(engine, request);

        Assert.Equal(ReasonCode.DeviceInvalid, decision.Reason);
        Assert.True(EngineAssert.Decide(engine, request with { DeviceStatus = DeviceStatus.Absent }).Allowed);
    }

    [Fact]
    public void Denies_VerifiedDeviceStatusWithoutDeviceAsInvalid()
    {
        var decision = EngineAssert.Decide(demo, TestRequests.AliceRequest() with { Device = null });

        Assert.Equal(ReasonCode.DeviceInvalid, decision.Reason);
    }

    [Fact]
    public void Denies_QuarantineBeforeInvalidDevice()
    {
        var decision = EngineAssert.Decide(demo, TestRequests.AliceRequest() with { DeviceStatus = DeviceStatus.Invalid, DeviceQuarantined = true });

        Assert.Equal(ReasonCode.DeviceQuarantined, decision.Reason);
    }

    [Fact]
    public void Denies_SegmentNotAllowed_WhenNoRuleNamesTheSource()
    {
        var request = TestRequests.AliceRequest().WithDevice(TestRequests.HrLaptop with { Segment = "engineering" });

        var decision = EngineAssert.Decide(demo, request);

        Assert.Equal(ReasonCode.SegmentNotAllowed, decision.Reason);
        Assert.Equal("engineering", decision.SourceSegment);
        Assert.Equal("payroll-read", decision.RouteId);
        Assert.Null(decision.RuleName);
    }

    [Fact]
    public void Denies_NoMatchingRule_WhenTheSourceIsNamedButTheCallerIsNot()
    {
        var request = TestRequests.AliceRequest().WithPrincipal(p => p with { Groups = ["finance-staff"] });

        var decision = EngineAssert.Decide(demo, request);

        Assert.Equal(ReasonCode.NoMatchingRule, decision.Reason);
        Assert.Equal("hr", decision.SourceSegment);
        Assert.Null(decision.RuleName);
    }

    [Fact]
    public void Denies_SegmentNotAllowed_WhenARouteHasNoAllowRules()
    {
        var engine = TestRequests.Engine(TestPolicy.Policy(TestPolicy.Segment("hr", TestPolicy.Route("closed", "/{**rest}"))));

        var decision = engine.Decide(TestRequests.AliceRequest());

        Assert.Equal(ReasonCode.SegmentNotAllowed, decision.Reason);
        Assert.Equal("closed", decision.RouteId);
    }

    [Fact]
    public void DenyRule_WinsOverAnAllowRuleThatWouldAllow()
    {
        var admin = TestRequests.AliceRequest("/payroll/admin/run").WithPrincipal(p => p with
        {
            Roles = ["PayrollAdmin"],
            Acr = "phr",
            AuthTime = TestPolicy.Now.AddMinutes(-5),
        });
        Assert.True(EngineAssert.Decide(demo, admin).Allowed);

        var decision = EngineAssert.Decide(demo, admin.WithPrincipal(p => p with { Groups = ["hr-staff", "contractors"] }));

        Assert.Equal(ReasonCode.DeniedByRule, decision.Reason);
        Assert.Equal("no-contractors", decision.RuleName);
        Assert.Equal("hr", decision.SourceSegment);
        Assert.Equal("payroll-admin", decision.RouteId);
    }

    [Theory]
    [InlineData("DELETE", true)]
    [InlineData("delete", true)]
    [InlineData("GET", false)]
    public void DenyRule_LimitedToMethods(string method, bool denied)
    {
        var engine = TestRequests.Engine(TestPolicy.Policy(TestPolicy.Segment(
            "hr",
            TestPolicy.Route("docs", "/docs/{**rest}", TestPolicy.Users("staff", ["hr"], groups: ["hr-staff"]))
                .WithDeny(TestPolicy.Users("no-deletes", null, groups: ["hr-staff"]) with { Methods = ["DELETE"] }))));

        var decision = EngineAssert.Decide(engine, TestRequests.AliceRequest("/docs/a", method));

        Assert.Equal(denied ? ReasonCode.DeniedByRule : ReasonCode.Allowed, decision.Reason);
    }

    [Theory]
    [InlineData("10.20.9.9", true)]
    [InlineData("10.20.1.1", false)]
    [InlineData(null, false)]
    public void DenyRule_LimitedToNetworks(string? address, bool denied)
    {
        var engine = TestRequests.Engine(TestPolicy.Policy(TestPolicy.Segment(
            "hr",
            TestPolicy.Route("docs", "/docs/{**rest}", TestPolicy.Users("staff", ["hr"], groups: ["hr-staff"]))
                .WithDeny(TestPolicy.Users("kiosk", null, groups: ["hr-staff"]) with { Networks = TestPolicy.Networks("10.20.9.0/24") }))));

        var decision = EngineAssert.Decide(engine, TestRequests.AliceRequest("/docs/a").From(address));

        Assert.Equal(denied ? ReasonCode.DeniedByRule : ReasonCode.Allowed, decision.Reason);
    }

    [Fact]
    public void DenyRule_LimitedToSourcesAndTime()
    {
        var time = new FakeTimeProvider(TestPolicy.Now);
        var engine = TestRequests.Engine(
            TestPolicy.Policy(TestPolicy.Segment(
                "hr",
                TestPolicy.Route("docs", "/docs/{**rest}", TestPolicy.Users("staff", ["*"], groups: ["hr-staff"]))
                    .WithDeny(
                        TestPolicy.Users("not-from-finance", ["finance"], groups: ["hr-staff"]),
                        TestPolicy.Users("freeze", null, groups: ["hr-staff"]) with { Until = TestPolicy.Now.AddHours(1) })),
                TestPolicy.Segment("finance")),
            time);
        var request = TestRequests.AliceRequest("/docs/a");

        var during = EngineAssert.Decide(engine, request);
        time.Advance(TimeSpan.FromHours(1));
        var after = EngineAssert.Decide(engine, request);
        var fromFinance = EngineAssert.Decide(engine, request.WithDevice(TestRequests.HrLaptop with { Segment = "finance" }));

        Assert.Equal(ReasonCode.DeniedByRule, during.Reason);
        Assert.Equal("freeze", during.RuleName);
        Assert.Equal(ReasonCode.Allowed, after.Reason);
        Assert.Equal(ReasonCode.DeniedByRule, fromFinance.Reason);
        Assert.Equal("not-from-finance", fromFinance.RuleName);
    }

    [Theory]
    [InlineData("groups", true)]
    [InlineData("roles", true)]
    [InlineData("subjects", true)]
    [InlineData("none", false)]
    public void AllowRule_NamesUsersByGroupsRolesOrSubjects(string by, bool allowed)
    {
        var engine = TestRequests.Engine(TestPolicy.Policy(TestPolicy.Segment(
            "hr",
            TestPolicy.Route(
                "docs",
                "/docs/{**rest}",
                TestPolicy.Users("named", ["hr"], groups: ["g1"], roles: ["r1"], subjects: ["s1"])))));
        var principal = TestRequests.Alice with { Subject = "bob", Groups = ["other"], Roles = ["other"] };
        principal = by switch
        {
            "groups" => principal with { Groups = ["other", "g1"] },
            "roles" => principal with { Roles = ["r1"] },
            "subjects" => principal with { Subject = "s1" },
            _ => principal,
        };

        var decision = EngineAssert.Decide(engine, TestRequests.For(principal, "/docs/x").WithDevice(TestRequests.HrLaptop));

        Assert.Equal(allowed ? ReasonCode.Allowed : ReasonCode.NoMatchingRule, decision.Reason);
    }

    [Fact]
    public void AllowRule_GroupNamesAreCaseSensitive()
    {
        var request = TestRequests.AliceRequest().WithPrincipal(p => p with { Groups = ["HR-STAFF"] });

        Assert.Equal(ReasonCode.NoMatchingRule, EngineAssert.Decide(demo, request).Reason);
    }

    [Fact]
    public void AllowRule_ForUsersDoesNotApplyToWorkloads()
    {
        var engine = TestRequests.Engine(TestPolicy.Policy(TestPolicy.Segment(
            "hr", TestPolicy.Route("docs", "/docs/{**rest}", TestPolicy.Users("staff", ["*"], subjects: ["svc-1"])))));

        var decision = EngineAssert.Decide(engine, TestRequests.For(TestRequests.Workload("svc-1"), "/docs/a"));

        // No rule for workloads names any source: for a workload the route admits no segment at all.
        Assert.Equal(ReasonCode.SegmentNotAllowed, decision.Reason);
    }

    [Fact]
    public void AllowRule_ForWorkloadsDoesNotApplyToUsers()
    {
        var engine = TestRequests.Engine(TestPolicy.Policy(TestPolicy.Segment(
            "hr", TestPolicy.Route("docs", "/docs/{**rest}", TestPolicy.Workloads("svc", ["*"], "alice")))));

        var decision = EngineAssert.Decide(engine, TestRequests.AliceRequest("/docs/a"));

        Assert.Equal(ReasonCode.SegmentNotAllowed, decision.Reason);
    }

    [Fact]
    public void WorkloadGrantFromASegment_DoesNotSoftenAUserRefusalFromIt()
    {
        var engine = TestRequests.Engine(TestPolicy.Policy(TestPolicy.Segment(
            "hr", TestPolicy.Route("docs", "/docs/{**rest}",
                TestPolicy.Users("staff", ["finance"], groups: ["hr-staff"]),
                TestPolicy.Workloads("sync", ["*"], "svc-1")))));

        Assert.Equal(ReasonCode.SegmentNotAllowed, EngineAssert.Decide(engine, TestRequests.AliceRequest("/docs/a")).Reason);
        Assert.Equal(ReasonCode.NoMatchingRule, EngineAssert.Decide(engine, TestRequests.For(TestRequests.Workload("svc-2"), "/docs/a")).Reason);
    }

    [Fact]
    public void AllowRule_WithNeitherUsersNorWorkloadsAppliesToNobody()
    {
        var engine = TestRequests.Engine(TestPolicy.Policy(TestPolicy.Segment(
            "hr", TestPolicy.Route("docs", "/docs/{**rest}", new RuleConfig { Name = "empty", From = ["*"] }))));

        Assert.Equal(ReasonCode.SegmentNotAllowed, EngineAssert.Decide(engine, TestRequests.AliceRequest("/docs/a")).Reason);
        Assert.Equal(
            ReasonCode.SegmentNotAllowed,
            EngineAssert.Decide(engine, TestRequests.For(TestRequests.Workload("svc"), "/docs/a")).Reason);
    }

    [Fact]
    public void AllowRule_WithoutFromNamesNoSource()
    {
        var engine = TestRequests.Engine(TestPolicy.Policy(TestPolicy.Segment(
            "hr", TestPolicy.Route("docs", "/docs/{**rest}", TestPolicy.Users("nofrom", null, groups: ["hr-staff"])))));

        var decision = EngineAssert.Decide(engine, TestRequests.AliceRequest("/docs/a"));

        Assert.Equal(ReasonCode.SegmentNotAllowed, decision.Reason);
    }

    [Fact]
    public void Allows_WorkloadNamedByTheRule()
    {
        var request = TestRequests.For(TestRequests.Workload(DemoPolicy.LedgerSync), address: "10.30.0.7");

        var decision = EngineAssert.Decide(demo, request);

        Assert.True(decision.Allowed);
        Assert.Equal("ledger-sync", decision.RuleName);
        Assert.Equal("finance", decision.SourceSegment);
        Assert.Equal("payroll-read", decision.RouteId);
    }

    [Fact]
    public void Allows_WorkloadIdFallsBackToSubject()
    {
        var workload = new Principal { Kind = PrincipalKind.Workload, Subject = DemoPolicy.LedgerSync };

        var decision = EngineAssert.Decide(demo, TestRequests.For(workload, address: "10.30.0.7"));

        Assert.True(decision.Allowed);
    }

    [Fact]
    public void Denies_WorkloadNotNamedByAnyRule()
    {
        var engine = TestRequests.Engine(DemoPolicy.Create());
        var other = new Principal { Kind = PrincipalKind.Workload, Subject = "x", WorkloadId = "spiffe://corp.example/finance/other" };

        var decision = EngineAssert.Decide(engine, TestRequests.For(other, address: "10.30.0.7"));

        Assert.Equal(ReasonCode.NoMatchingRule, decision.Reason);
        Assert.Equal("finance", decision.SourceSegment);
    }

    [Theory]
    [InlineData("GET", true)]
    [InlineData("HEAD", true)]
    [InlineData("POST", false)]
    public void AllowRule_LimitedToMethods(string method, bool allowed)
    {
        var engine = TestRequests.Engine(TestPolicy.Policy(TestPolicy.Segment(
            "hr",
            TestPolicy.Route("docs", "/docs/{**rest}", TestPolicy.Users("readers", ["hr"], groups: ["hr-staff"]) with { Methods = ["GET", "HEAD"] }))));

        var decision = EngineAssert.Decide(engine, TestRequests.AliceRequest("/docs/a", method));

        Assert.Equal(allowed ? ReasonCode.Allowed : ReasonCode.NoMatchingRule, decision.Reason);
    }

    [Theory]
    [InlineData("10.20.5.5", true)]
    [InlineData("::ffff:10.20.5.5", true)]
    [InlineData("10.20.6.5", false)]
    [InlineData("2001:db8::5", false)]
    [InlineData(null, false)]
    public void AllowRule_LimitedToNetworks(string? address, bool allowed)
    {
        var engine = TestRequests.Engine(TestPolicy.Policy(TestPolicy.Segment(
            "hr",
            TestPolicy.Route("docs", "/docs/{**rest}", TestPolicy.Users("office", ["hr"], groups: ["hr-staff"]) with { Networks = TestPolicy.Networks("10.20.5.0/24") }))));

        var decision = EngineAssert.Decide(engine, TestRequests.AliceRequest("/docs/a").From(address));

        Assert.Equal(allowed ? ReasonCode.Allowed : ReasonCode.NoMatchingRule, decision.Reason);
    }

    [Fact]
    public void Grant_AllowsUntilItsInstantThenExpires()
    {
        var time = new FakeTimeProvider(DemoPolicy.LedgerGrantEnds.AddMinutes(-1));
        var engine = TestRequests.Engine(DemoPolicy.Create(), time);
        var request = TestRequests.For(TestRequests.Workload(DemoPolicy.LedgerSync), address: "10.30.0.7");

        var before = EngineAssert.Decide(engine, request);
        time.Advance(TimeSpan.FromMinutes(1));
        var atInstant = EngineAssert.Decide(engine, request);
        time.Advance(TimeSpan.FromDays(30));
        var later = EngineAssert.Decide(engine, request);

        Assert.Equal(ReasonCode.Allowed, before.Reason);
        Assert.Equal(ReasonCode.GrantExpired, atInstant.Reason);
        Assert.Equal("ledger-sync", atInstant.RuleName);
        Assert.Equal("finance", atInstant.SourceSegment);
        Assert.Equal(ReasonCode.GrantExpired, later.Reason);
    }

    [Fact]
    public void Grant_ExpiredOnlyWhenTheRuleWouldOtherwiseApply()
    {
        var time = new FakeTimeProvider(DemoPolicy.LedgerGrantEnds.AddDays(1));
        var engine = TestRequests.Engine(DemoPolicy.Create(), time);
        var otherWorkload = TestRequests.For(TestRequests.Workload("spiffe://corp.example/finance/other"), address: "10.30.0.7");
        var fromEngineering = TestRequests.For(TestRequests.Workload(DemoPolicy.LedgerSync), address: "10.40.0.7");

        Assert.Equal(ReasonCode.NoMatchingRule, EngineAssert.Decide(engine, otherWorkload).Reason);
        Assert.Equal(ReasonCode.SourceMismatch, EngineAssert.Decide(engine, fromEngineering).Reason);
    }

    [Fact]
    public void Grant_StillValidRuleWinsOverAnExpiredOne()
    {
        var time = new FakeTimeProvider(TestPolicy.Now);
        var engine = TestRequests.Engine(
            TestPolicy.Policy(TestPolicy.Segment(
                "hr",
                TestPolicy.Route(
                    "docs",
                    "/docs/{**rest}",
                    TestPolicy.Users("temporary", ["hr"], groups: ["hr-staff"]) with { Until = TestPolicy.Now.AddHours(-1) },
                    TestPolicy.Users("standing", ["hr"], subjects: ["alice"]) with { Until = TestPolicy.Now.AddHours(1) }))),
            time);
        var request = TestRequests.AliceRequest("/docs/a");

        var now = EngineAssert.Decide(engine, request);
        time.Advance(TimeSpan.FromHours(2));
        var later = EngineAssert.Decide(engine, request);

        Assert.Equal("standing", now.RuleName);
        Assert.True(now.Allowed);
        Assert.Equal(ReasonCode.GrantExpired, later.Reason);
        Assert.Equal("temporary", later.RuleName);
    }

    [Fact]
    public void Allows_FromAnySourceWithStar()
    {
        var engine = TestRequests.Engine(TestPolicy.Policy(
            TestPolicy.Segment("hr", TestPolicy.Route("docs", "/docs/{**rest}", TestPolicy.Users("everyone", ["*"], groups: ["hr-staff"]).Relaxed())),
            TestPolicy.Segment("finance").WithMembers(networks: ["10.30.0.0/16"])));

        var unknown = EngineAssert.Decide(engine, TestRequests.For(TestRequests.Alice, "/docs/a", address: "192.0.2.1"));
        var outsidePolicy = EngineAssert.Decide(engine, TestRequests.AliceRequest("/docs/a").WithDevice(TestRequests.HrLaptop with { Segment = "lab" }));

        Assert.True(unknown.Allowed);
        Assert.Equal("unknown", unknown.SourceSegment);
        Assert.True(outsidePolicy.Allowed);
        Assert.Equal("lab", outsidePolicy.SourceSegment);
    }

    [Fact]
    public void Allows_UnknownSourceOnlyWhenNamed()
    {
        var engine = TestRequests.Engine(TestPolicy.Policy(
            TestPolicy.Segment(
                "hr",
                TestPolicy.Route("guest", "/guest/{**rest}", TestPolicy.Users("visitors", ["unknown"], groups: ["hr-staff"]).Relaxed()),
                TestPolicy.Route("docs", "/docs/{**rest}", TestPolicy.Users("staff", ["hr"], groups: ["hr-staff"]).Relaxed()))
            .WithMembers(networks: ["10.20.0.0/16"])));

        Assert.True(EngineAssert.Decide(engine, TestRequests.For(TestRequests.Alice, "/guest/a", address: "192.0.2.1")).Allowed);
        Assert.Equal(
            ReasonCode.SegmentNotAllowed,
            EngineAssert.Decide(engine, TestRequests.For(TestRequests.Alice, "/docs/a", address: "192.0.2.1")).Reason);
        Assert.Equal(
            ReasonCode.SegmentNotAllowed,
            EngineAssert.Decide(engine, TestRequests.For(TestRequests.Alice, "/guest/a", address: "10.20.1.1")).Reason);
    }

    [Fact]
    public void Decide_ReadsTheClockOncePerDecision()
    {
        var time = new CountingTimeProvider(TestPolicy.Now);
        var engine = new PolicyEngine(DemoPolicy.Create(), time);

        engine.Decide(TestRequests.AliceRequest());

        Assert.Equal(1, time.Calls);
    }

    private sealed class CountingTimeProvider(DateTimeOffset now) : TimeProvider
    {
        public int Calls { get; private set; }

        public override DateTimeOffset GetUtcNow()
        {
            Calls++;
            return now;
        }
    }
}
