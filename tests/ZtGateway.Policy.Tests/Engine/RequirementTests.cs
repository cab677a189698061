using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Engine;

namespace ZtGateway.Policy.Tests.Engine;

public class RequirementTests
{
    private static PolicyEngine EngineWith(RuleConfig rule, RuleDefaults? defaults = null, IdentitySettings? identity = null) =>
        TestRequests.Engine(TestPolicy.Policy(
            identity ?? new IdentitySettings(),
            TestPolicy.Segment("hr", TestPolicy.Route("docs", "/docs/{**rest}", rule)).WithMembers(networks: ["10.20.0.0/16"]) with
            {
                Defaults = defaults ?? new RuleDefaults(),
            }));

    private static RuleConfig Staff => TestPolicy.Users("staff", ["hr"], groups: ["hr-staff"]);

    private static RequestContext Request => TestRequests.AliceRequest("/docs/a");

    [Fact]
    public void StrictDefaults_AllowAliceWithEverything()
    {
        Assert.True(EngineAssert.Decide(EngineWith(Staff), Request).Allowed);
    }

    [Fact]
    public void StrictDefaults_RequireMfa()
    {
        var decision = EngineAssert.Decide(EngineWith(Staff), Request.WithPrincipal(p => p with { Amr = ["pwd"] }));

        Assert.Equal(ReasonCode.MfaRequired, decision.Reason);
        Assert.Equal("staff", decision.RuleName);
        Assert.Equal("hr", decision.SourceSegment);
        Assert.Empty(decision.AcrValues);
        Assert.Equal(TimeSpan.FromHours(12), decision.MaxAuthAge);
    }

    [Fact]
    public void StrictDefaults_RequireACompliantDevice()
    {
        var missing = EngineAssert.Decide(EngineWith(Staff), Request.WithDevice(null));
        var noncompliant = EngineAssert.Decide(EngineWith(Staff), Request.WithDevice(TestRequests.HrLaptop with { Compliant = false }));

        Assert.Equal(ReasonCode.DeviceMissing, missing.Reason);
        Assert.Equal("staff", missing.RuleName);
        Assert.Null(missing.MaxAuthAge);
        Assert.Empty(missing.AcrValues);
        Assert.Equal(ReasonCode.DeviceNoncompliant, noncompliant.Reason);
    }

    [Fact]
    public void StrictDefaults_DoNotRequireAManagedOrLowRiskDevice()
    {
        var device = TestRequests.HrLaptop with { Managed = false, Risk = RiskLevel.High };

        Assert.True(EngineAssert.Decide(EngineWith(Staff), Request.WithDevice(device)).Allowed);
    }

    [Theory]
    [InlineData(-12 * 60 * 60, true)]
    [InlineData(-12 * 60 * 60 - 60, true)]
    [InlineData(-12 * 60 * 60 - 61, false)]
    [InlineData(-13 * 60 * 60, false)]
    public void StrictDefaults_LimitAuthenticationAgeTo12HoursPlusClockSkew(int secondsAgo, bool allowed)
    {
        var request = Request.WithPrincipal(p => p with { AuthTime = TestPolicy.Now.AddSeconds(secondsAgo) });

        var decision = EngineAssert.Decide(EngineWith(Staff), request);

        Assert.Equal(allowed ? ReasonCode.Allowed : ReasonCode.AuthTooOld, decision.Reason);
    }

    [Fact]
    public void SegmentDefaults_CanRelaxEveryUserRule()
    {
        var defaults = new RuleDefaults { Mfa = MfaRequirement.Optional, Device = DeviceRequirement.AnyDevice, MaxAuthAge = TimeSpan.FromDays(7) };
        var request = Request.WithDevice(null).WithPrincipal(p => p with { Amr = ["pwd"], AuthTime = TestPolicy.Now.AddDays(-6) });

        Assert.True(EngineAssert.Decide(EngineWith(Staff, defaults), request).Allowed);
    }

    [Fact]
    public void RuleOverridesSegmentDefaults()
    {
        var defaults = new RuleDefaults { Mfa = MfaRequirement.Optional, Device = DeviceRequirement.AnyDevice };
        var strictRule = Staff with { Mfa = MfaRequirement.Required, Device = DeviceRequirement.ManagedDevice, MaxAuthAge = TimeSpan.FromMinutes(30) };
        var engine = EngineWith(strictRule, defaults);

        var fresh = Request.WithPrincipal(p => p with { AuthTime = TestPolicy.Now.AddMinutes(-5) });

        var noMfa = EngineAssert.Decide(engine, fresh.WithPrincipal(p => p with { Amr = ["pwd"] }));
        var stale = EngineAssert.Decide(engine, Request);
        var unmanaged = EngineAssert.Decide(engine, fresh.WithDevice(TestRequests.HrLaptop with { Managed = false }));
        var noncompliant = EngineAssert.Decide(engine, fresh.WithDevice(TestRequests.HrLaptop with { Compliant = false }));

        Assert.Equal(ReasonCode.MfaRequired, noMfa.Reason);
        Assert.Equal(TimeSpan.FromMinutes(30), noMfa.MaxAuthAge);
        Assert.Equal(ReasonCode.AuthTooOld, stale.Reason);
        Assert.Equal(ReasonCode.DeviceUnmanaged, unmanaged.Reason);
        Assert.True(noncompliant.Allowed);
    }

    [Theory]
    [InlineData(new[] { "pwd", "otp" }, false)]
    [InlineData(new[] { "hwk" }, true)]
    [InlineData(new[] { "pwd", "face" }, true)]
    [InlineData(new[] { "HWK" }, false)]
    [InlineData(new string[0], false)]
    public void Mfa_CountsOnlyConfiguredMethods(string[] amr, bool allowed)
    {
        var identity = new IdentitySettings { MfaMethods = ["hwk", "face"] };
        var request = Request.WithPrincipal(p => p with { Amr = amr });

        var decision = EngineAssert.Decide(EngineWith(Staff, identity: identity), request);

        Assert.Equal(allowed ? ReasonCode.Allowed : ReasonCode.MfaRequired, decision.Reason);
    }

    [Theory]
    [InlineData("mfa")]
    [InlineData("otp")]
    [InlineData("hwk")]
    [InlineData("swk")]
    [InlineData("sc")]
    [InlineData("fpt")]
    [InlineData("face")]
    public void Mfa_BuiltInMethodsCount(string method)
    {
        var decision = EngineAssert.Decide(EngineWith(Staff), Request.WithPrincipal(p => p with { Amr = ["pwd", method] }));

        Assert.True(decision.Allowed);
    }

    [Theory]
    [InlineData("phr", true)]
    [InlineData("phrh", true)]
    [InlineData("PHR", false)]
    [InlineData("c1", false)]
    [InlineData(null, false)]
    public void Acr_MustBeOneTheRuleAccepts(string? acr, bool allowed)
    {
        var rule = Staff with { Acr = ["phr", "phrh"], MaxAuthAge = TimeSpan.FromHours(2) };

        var decision = EngineAssert.Decide(EngineWith(rule), Request.WithPrincipal(p => p with { Acr = acr }));

        Assert.Equal(allowed ? ReasonCode.Allowed : ReasonCode.AcrInsufficient, decision.Reason);
        if (!allowed)
        {
            Assert.Equal(["phr", "phrh"], decision.AcrValues);
            Assert.Equal(TimeSpan.FromHours(2), decision.MaxAuthAge);
        }
    }

    [Fact]
    public void Acr_EmptyListAcceptsAny()
    {
        Assert.True(EngineAssert.Decide(EngineWith(Staff with { Acr = [] }), Request).Allowed);
    }

    [Fact]
    public void MaxAuthAge_MissingAuthTimeIsTooOld()
    {
        var decision = EngineAssert.Decide(EngineWith(Staff with { MaxAuthAge = TimeSpan.FromMinutes(15), Acr = ["phr"] }), Request.WithPrincipal(p => p with { AuthTime = null, Acr = "phr" }));

        Assert.Equal(ReasonCode.AuthTooOld, decision.Reason);
        Assert.Equal(TimeSpan.FromMinutes(15), decision.MaxAuthAge);
        Assert.Equal(["phr"], decision.AcrValues);
    }

    [Fact]
    public void MaxAuthAge_RuleValueIsUsed()
    {
        var rule = Staff with { MaxAuthAge = TimeSpan.FromMinutes(15) };

        var fresh = EngineAssert.Decide(EngineWith(rule), Request.WithPrincipal(p => p with { AuthTime = TestPolicy.Now.AddMinutes(-15) }));
        var stale = EngineAssert.Decide(EngineWith(rule), Request.WithPrincipal(p => p with { AuthTime = TestPolicy.Now.AddMinutes(-17) }));

        Assert.True(fresh.Allowed);
        Assert.Equal(ReasonCode.AuthTooOld, stale.Reason);
        Assert.Equal(TimeSpan.FromMinutes(15), stale.MaxAuthAge);
    }

    [Fact]
    public void StepUpSignal_ForcesReauthentication()
    {
        var decision = EngineAssert.Decide(EngineWith(Staff), Request with { StepUpRequired = true });

        Assert.Equal(ReasonCode.AuthTooOld, decision.Reason);
        Assert.Equal("staff", decision.RuleName);
    }

    [Fact]
    public void DeviceAny_NeedsNoDevice()
    {
        var rule = Staff with { Device = DeviceRequirement.AnyDevice };

        Assert.True(EngineAssert.Decide(EngineWith(rule), Request.WithDevice(null)).Allowed);
        Assert.True(EngineAssert.Decide(EngineWith(rule), Request.WithDevice(TestRequests.HrLaptop with { Compliant = false })).Allowed);
    }

    [Theory]
    [InlineData(true, true, RiskLevel.Low, ReasonCode.Allowed)]
    [InlineData(false, true, RiskLevel.Low, ReasonCode.DeviceNoncompliant)]
    [InlineData(true, false, RiskLevel.Low, ReasonCode.DeviceUnmanaged)]
    [InlineData(true, true, RiskLevel.Medium, ReasonCode.DeviceRiskTooHigh)]
    [InlineData(true, true, RiskLevel.High, ReasonCode.DeviceRiskTooHigh)]
    [InlineData(false, false, RiskLevel.High, ReasonCode.DeviceNoncompliant)]
    public void Device_MappingRequirement(bool compliant, bool managed, RiskLevel risk, ReasonCode expected)
    {
        var rule = Staff with { Device = new DeviceRequirement { Compliant = true, Managed = true, MaxRisk = RiskLevel.Low } };
        var device = TestRequests.HrLaptop with { Compliant = compliant, Managed = managed, Risk = risk };

        var decision = EngineAssert.Decide(EngineWith(rule), Request.WithDevice(device));

        Assert.Equal(expected, decision.Reason);
    }

    [Fact]
    public void Device_MediumRiskAllowedUpToMedium()
    {
        var rule = Staff with { Device = new DeviceRequirement { MaxRisk = RiskLevel.Medium } };

        var medium = EngineAssert.Decide(EngineWith(rule), Request.WithDevice(TestRequests.HrLaptop with { Compliant = false, Risk = RiskLevel.Medium }));
        var high = EngineAssert.Decide(EngineWith(rule), Request.WithDevice(TestRequests.HrLaptop with { Risk = RiskLevel.High }));

        Assert.True(medium.Allowed);
        Assert.Equal(ReasonCode.DeviceRiskTooHigh, high.Reason);
    }

    [Fact]
    public void Requirements_StepUpIsCheckedBeforeDeviceWithinARule()
    {
        var request = Request.WithDevice(null).WithPrincipal(p => p with { Amr = ["pwd"] });

        Assert.Equal(ReasonCode.MfaRequired, EngineAssert.Decide(EngineWith(Staff), request).Reason);
    }

    [Fact]
    public void Requirements_StepUpReasonBeatsDeviceReasonOfAnEarlierRule()
    {
        var engine = TestRequests.Engine(TestPolicy.Policy(TestPolicy.Segment(
            "hr",
            TestPolicy.Route(
                "docs",
                "/docs/{**rest}",
                TestPolicy.Users("managed-only", ["hr"], groups: ["hr-staff"]) with { Device = DeviceRequirement.ManagedDevice },
                TestPolicy.Users("strong-auth", ["hr"], groups: ["hr-staff"]) with { Device = DeviceRequirement.AnyDevice, Acr = ["phr"] }))));

        var decision = EngineAssert.Decide(engine, Request.WithDevice(TestRequests.HrLaptop with { Managed = false }));

        Assert.Equal(ReasonCode.AcrInsufficient, decision.Reason);
        Assert.Equal("strong-auth", decision.RuleName);
        Assert.Equal(["phr"], decision.AcrValues);
    }

    [Theory]
    [InlineData("mfa", "acr", ReasonCode.MfaRequired, "b")]
    [InlineData("acr", "mfa", ReasonCode.MfaRequired, "c")]
    [InlineData("age", "acr", ReasonCode.AcrInsufficient, "c")]
    [InlineData("device", "age", ReasonCode.AuthTooOld, "c")]
    [InlineData("acr", "acr", ReasonCode.AcrInsufficient, "b")]
    [InlineData("device", "device", ReasonCode.DeviceNoncompliant, "b")]
    public void Requirements_BestFailureAcrossRules(string second, string third, ReasonCode expected, string rule)
    {
        // Rule a never applies; b and c each fail one requirement. Alice has pwd only, acr c1, auth 2h ago, noncompliant device.
        RuleConfig Failing(string name, string what) => (TestPolicy.Users(name, ["hr"], groups: ["hr-staff"]) with
        {
            Mfa = MfaRequirement.Optional,
            Device = DeviceRequirement.AnyDevice,
        }) switch
        {
            var r when what == "mfa" => r with { Mfa = MfaRequirement.Required },
            var r when what == "acr" => r with { Acr = ["phr"] },
            var r when what == "age" => r with { MaxAuthAge = TimeSpan.FromHours(1) },
            var r => r with { Device = DeviceRequirement.CompliantDevice },
        };
        var engine = TestRequests.Engine(TestPolicy.Policy(TestPolicy.Segment(
            "hr",
            TestPolicy.Route(
                "docs",
                "/docs/{**rest}",
                TestPolicy.Users("a", ["hr"], groups: ["nobody"]),
                Failing("b", second),
                Failing("c", third)))));
        var request = Request
            .WithDevice(TestRequests.HrLaptop with { Compliant = false })
            .WithPrincipal(p => p with { Amr = ["pwd"], Acr = "c1", AuthTime = TestPolicy.Now.AddHours(-2) });

        var decision = EngineAssert.Decide(engine, request);

        Assert.Equal(expected, decision.Reason);
        Assert.Equal(rule, decision.RuleName);
    }

    [Fact]
    public void Requirements_LaterRuleThatHoldsAllows()
    {
        var engine = TestRequests.Engine(TestPolicy.Policy(TestPolicy.Segment(
            "hr",
            TestPolicy.Route(
                "docs",
                "/docs/{**rest}",
                TestPolicy.Users("strict", ["hr"], groups: ["hr-staff"]) with { Acr = ["phr"] },
                TestPolicy.Users("normal", ["hr"], groups: ["hr-staff"])))));

        var decision = EngineAssert.Decide(engine, Request);

        Assert.True(decision.Allowed);
        Assert.Equal("normal", decision.RuleName);
    }

    [Fact]
    public void Requirements_FailureBeatsGrantExpiredAndNoMatch()
    {
        var engine = TestRequests.Engine(TestPolicy.Policy(TestPolicy.Segment(
            "hr",
            TestPolicy.Route(
                "docs",
                "/docs/{**rest}",
                TestPolicy.Users("old", ["hr"], groups: ["hr-staff"]) with { Until = TestPolicy.Now.AddDays(-1) },
                TestPolicy.Users("strict", ["hr"], groups: ["hr-staff"]) with { Acr = ["phr"] }))));

        var decision = EngineAssert.Decide(engine, Request);

        Assert.Equal(ReasonCode.AcrInsufficient, decision.Reason);
        Assert.Equal("strict", decision.RuleName);
    }

    [Fact]
    public void Workloads_HaveNoUserRequirements()
    {
        var engine = TestRequests.Engine(TestPolicy.Policy(
            TestPolicy.Segment("hr", TestPolicy.Route("docs", "/docs/{**rest}", TestPolicy.Workloads("sync", ["finance"], DemoPolicy.LedgerSync))),
            TestPolicy.Segment("finance").WithMembers([DemoPolicy.LedgerSync])));
        var request = TestRequests.For(TestRequests.Workload(DemoPolicy.LedgerSync), "/docs/a") with { StepUpRequired = true };

        var decision = EngineAssert.Decide(engine, request);

        Assert.True(decision.Allowed);
        Assert.Equal("finance", decision.SourceSegment);
    }
}
