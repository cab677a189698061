using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Engine;

namespace ZtGateway.Policy.Tests.Engine;

/// <summary><c>boundToken: true</c>: a rule that takes only credentials bound to the connection (RFC 8705).</summary>
public sealed class BoundTokenTests
{
    private const string Sync = "spiffe://corp.example/hr/sync";

    private static PolicyEngine EngineWith(params RuleConfig[] rules) =>
        TestRequests.Engine(TestPolicy.Policy(
            TestPolicy.Segment("hr", TestPolicy.Route("admin", "/admin/{**rest}", rules)).WithMembers([Sync], ["10.20.0.0/16"])));

    private static RuleConfig Staff => TestPolicy.Users("staff", ["hr"], groups: ["hr-staff"]) with { BoundToken = true };

    private static RuleConfig SyncRule => TestPolicy.Workloads("sync", ["hr"], Sync) with { BoundToken = true };

    private static RequestContext Alice(CredentialBinding binding) => TestRequests.AliceRequest("/admin/x") with { Binding = binding };

    private static RequestContext SyncCall(CredentialBinding binding) =>
        TestRequests.For(TestRequests.Workload(Sync), "/admin/x") with { Binding = binding };

    [Fact]
    public void BearerToken_IsRefusedTokenUnbound_OnTheRule()
    {
        var decision = EngineAssert.Decide(EngineWith(Staff), Alice(CredentialBinding.None));

        Assert.False(decision.Allowed);
        Assert.Equal(ReasonCode.TokenUnbound, decision.Reason);
        Assert.Equal("staff", decision.RuleName);
        Assert.Equal("hr", decision.SourceSegment);
        Assert.Empty(decision.AcrValues);
        Assert.Null(decision.MaxAuthAge);
    }

    [Theory]
    [InlineData(CredentialBinding.BoundToken)]
    [InlineData(CredentialBinding.Certificate)]
    public void BoundCredential_IsAllowed(CredentialBinding binding)
    {
        Assert.True(EngineAssert.Decide(EngineWith(Staff), Alice(binding)).Allowed);
        Assert.True(EngineAssert.Decide(EngineWith(SyncRule), SyncCall(binding)).Allowed);
    }

    [Fact]
    public void WorkloadRule_AsksForTheBindingToo()
    {
        var decision = EngineAssert.Decide(EngineWith(SyncRule), SyncCall(CredentialBinding.None));

        Assert.Equal(ReasonCode.TokenUnbound, decision.Reason);
        Assert.Equal("sync", decision.RuleName);
    }

    [Fact]
    public void RuleWithoutBoundToken_TakesABearerToken()
    {
        Assert.True(EngineAssert.Decide(EngineWith(Staff with { BoundToken = false }), Alice(CredentialBinding.None)).Allowed);
        Assert.True(EngineAssert.Decide(EngineWith(SyncRule with { BoundToken = false }), SyncCall(CredentialBinding.None)).Allowed);
    }

    [Fact]
    public void StepUpReasons_ComeBeforeTheBinding()
    {
        var noMfa = Alice(CredentialBinding.None).WithPrincipal(p => p with { Amr = ["pwd"] });
        var stale = Alice(CredentialBinding.None).WithPrincipal(p => p with { AuthTime = TestPolicy.Now.AddDays(-1) });

        Assert.Equal(ReasonCode.MfaRequired, EngineAssert.Decide(EngineWith(Staff), noMfa).Reason);
        Assert.Equal(ReasonCode.AuthTooOld, EngineAssert.Decide(EngineWith(Staff), stale).Reason);
        Assert.Equal(ReasonCode.AuthTooOld, EngineAssert.Decide(EngineWith(Staff), Alice(CredentialBinding.None) with { StepUpRequired = true }).Reason);
    }

    [Fact]
    public void TheBinding_ComesBeforeTheDevice()
    {
        var decision = EngineAssert.Decide(EngineWith(Staff), Alice(CredentialBinding.None).WithDevice(null));

        Assert.Equal(ReasonCode.TokenUnbound, decision.Reason);
    }

    [Fact]
    public void AcrossRules_TheBindingOutranksADeviceFailure_AndStepUpOutranksTheBinding()
    {
        // One rule fails on its device, the other on the binding: the caller is told to bring a bound token.
        var deviceRule = TestPolicy.Users("devices", ["hr"], groups: ["hr-staff"]) with
        {
            Device = new DeviceRequirement { Compliant = true, Managed = true, MaxRisk = RiskLevel.Low },
        };
        var request = Alice(CredentialBinding.None).WithDevice(TestRequests.HrLaptop with { Managed = false });

        var devicesFirst = EngineAssert.Decide(EngineWith(deviceRule, Staff), request);
        Assert.Equal((ReasonCode.TokenUnbound, "staff"), (devicesFirst.Reason, devicesFirst.RuleName));

        var stepUpRule = TestPolicy.Users("fresh", ["hr"], groups: ["hr-staff"]) with { MaxAuthAge = TimeSpan.FromMinutes(5) };
        var stepUp = EngineAssert.Decide(EngineWith(Staff, stepUpRule), request);
        Assert.Equal((ReasonCode.AuthTooOld, "fresh"), (stepUp.Reason, stepUp.RuleName));
    }

    [Fact]
    public void AnUnboundFailure_DoesNotHideARuleThatAllows()
    {
        var open = TestPolicy.Users("open", ["hr"], groups: ["hr-staff"]);

        var decision = EngineAssert.Decide(EngineWith(Staff, open), Alice(CredentialBinding.None));

        Assert.True(decision.Allowed);
        Assert.Equal("open", decision.RuleName);
    }

    [Fact]
    public void Explain_SaysTheRuleWantsABoundCredential()
    {
        var explanation = EngineWith(Staff).Explain(Alice(CredentialBinding.None));

        var trace = Assert.Single(explanation.Rules);
        Assert.True(trace.Applies);
        Assert.Equal(ReasonCode.TokenUnbound, trace.Outcome);
        Assert.Contains("bound to the connection", trace.Detail, StringComparison.Ordinal);
        Assert.Contains("bearer token", trace.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void TheReasonCode_IsAppendedToTheTable()
    {
        Assert.Equal("token-unbound", ReasonCode.TokenUnbound.ToCode());
        Assert.True(ReasonCodes.TryParse("token-unbound", out var parsed));
        Assert.Equal(ReasonCode.TokenUnbound, parsed);

        // Appended: the codes before it keep their numbers.
        Assert.Equal((int)ReasonCode.TokenUnbound, Enum.GetValues<ReasonCode>().Length - 1);
        Assert.Equal(25, (int)ReasonCode.InternalError);
        Assert.False(ReasonCode.TokenUnbound.IsStepUp());
        Assert.False(ReasonCode.TokenUnbound.IsDevice());
    }
}
