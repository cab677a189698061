using ZtGateway.Policy.Engine;

namespace ZtGateway.Policy.Tests.Engine;

public class SourceSegmentTests
{
    // Every source is allowed and nothing is required, so the decision shows only where the caller was placed.
    private static readonly PolicyEngine Engine = TestRequests.Engine(TestPolicy.Policy(
        TestPolicy.Segment(
                "hr",
                TestPolicy.Route(
                    "echo",
                    "/{**rest}",
                    TestPolicy.Users("people", ["*"], subjects: ["alice"]).Relaxed(),
                    TestPolicy.Workloads("services", ["*"], DemoPolicy.PayrollEngine, DemoPolicy.LedgerSync, DemoPolicy.BatchRunner, "stray")))
            .WithMembers([DemoPolicy.PayrollEngine], ["10.0.0.0/8", "10.20.0.0/16"]),
        TestPolicy.Segment("finance").WithMembers([DemoPolicy.LedgerSync], ["10.30.0.0/16", "2001:db8:30::/48"]),
        TestPolicy.Segment("finance-vault").WithMembers(networks: ["10.30.7.0/24"]),
        TestPolicy.Segment("batch").WithMembers([DemoPolicy.BatchRunner])));

    [Theory]
    [InlineData(DemoPolicy.PayrollEngine, "10.20.1.1", "hr")]
    [InlineData(DemoPolicy.LedgerSync, "10.30.7.9", "finance")]
    [InlineData(DemoPolicy.LedgerSync, "2001:db8:30::9", "finance")]
    [InlineData(DemoPolicy.BatchRunner, "10.30.1.1", "batch")]
    [InlineData(DemoPolicy.BatchRunner, null, "batch")]
    public void Workload_IsPlacedByMembersWorkloads(string workload, string? address, string expected)
    {
        var decision = EngineAssert.Decide(Engine, TestRequests.For(TestRequests.Workload(workload), "/x", address: address));

        Assert.True(decision.Allowed);
        Assert.Equal(expected, decision.SourceSegment);
    }

    [Theory]
    [InlineData("10.30.1.1", "finance")]
    [InlineData("10.30.7.1", "finance-vault")]
    [InlineData("10.20.1.1", "hr")]
    [InlineData("10.99.1.1", "hr")]
    [InlineData("::ffff:10.30.7.1", "finance-vault")]
    [InlineData("192.0.2.1", "unknown")]
    [InlineData(null, "unknown")]
    public void Workload_NotAMember_IsPlacedByTheMostSpecificNetwork(string? address, string expected)
    {
        var decision = EngineAssert.Decide(Engine, TestRequests.For(TestRequests.Workload("stray"), "/x", address: address));

        Assert.True(decision.Allowed);
        Assert.Equal(expected, decision.SourceSegment);
    }

    [Fact]
    public void User_IsPlacedByTheVerifiedDeviceWhereverItConnectsFrom()
    {
        var request = TestRequests.For(TestRequests.Alice, "/x", address: "10.30.1.1")
            .WithDevice(TestRequests.HrLaptop with { Segment = "batch" });

        var decision = EngineAssert.Decide(Engine, request);

        Assert.Equal("batch", decision.SourceSegment);
    }

    [Fact]
    public void User_WithDeviceOfASegmentOutsideThePolicy_KeepsThatName()
    {
        var request = TestRequests.For(TestRequests.Alice, "/x").WithDevice(TestRequests.HrLaptop with { Segment = "lab" });

        var decision = EngineAssert.Decide(Engine, request);

        Assert.True(decision.Allowed);
        Assert.Equal("lab", decision.SourceSegment);
    }

    [Fact]
    public void User_WithDeviceOfASegmentOutsideThePolicy_MatchesOnlyStar()
    {
        var engine = TestRequests.Engine(DemoPolicy.Create());
        var request = TestRequests.AliceRequest().WithDevice(TestRequests.HrLaptop with { Segment = "lab" });

        var decision = EngineAssert.Decide(engine, request);

        Assert.Equal(ReasonCode.SegmentNotAllowed, decision.Reason);
        Assert.Equal("lab", decision.SourceSegment);
    }

    [Theory]
    [InlineData("10.30.7.1", "finance-vault")]
    [InlineData("10.20.1.1", "hr")]
    [InlineData("192.0.2.1", "unknown")]
    [InlineData(null, "unknown")]
    public void User_WithoutDevice_FallsBackToNetworks(string? address, string expected)
    {
        var decision = EngineAssert.Decide(Engine, TestRequests.For(TestRequests.Alice, "/x", address: address));

        Assert.Equal(expected, decision.SourceSegment);
    }

    [Fact]
    public void User_WithInvalidDevice_IsNotPlacedAtAll()
    {
        var request = TestRequests.For(TestRequests.Alice, "/x").WithDevice(TestRequests.HrLaptop) with { DeviceStatus = DeviceStatus.Invalid };

        var decision = EngineAssert.Decide(Engine, request);

        Assert.Equal(ReasonCode.DeviceInvalid, decision.Reason);
        Assert.Equal(string.Empty, decision.SourceSegment);
    }

    [Fact]
    public void User_WhoseNameLooksLikeAMemberWorkload_IsNotPlacedAsOne()
    {
        var user = TestRequests.Alice with { Subject = DemoPolicy.BatchRunner, WorkloadId = DemoPolicy.BatchRunner };

        var decision = EngineAssert.Decide(Engine, TestRequests.For(user, "/x", address: "192.0.2.1"));

        Assert.Equal("unknown", decision.SourceSegment);
    }

    [Theory]
    [InlineData("10.30.200.1")]
    [InlineData("10.20.1.1")]
    [InlineData("2001:db8:31::1")]
    [InlineData(null)]
    public void SourceMismatch_WhenAMemberWorkloadCallsFromOutsideItsSegment(string? address)
    {
        var request = TestRequests.For(TestRequests.Workload(DemoPolicy.LedgerSync), "/x", address: address);
        var policy = TestPolicy.Policy(
            TestPolicy.Segment("hr", TestPolicy.Route("echo", "/{**rest}", TestPolicy.Workloads("services", ["*"], DemoPolicy.LedgerSync))),
            TestPolicy.Segment("finance").WithMembers([DemoPolicy.LedgerSync], ["10.30.0.0/24", "2001:db8:30::/48"]));

        var decision = EngineAssert.Decide(TestRequests.Engine(policy), request);

        Assert.False(decision.Allowed);
        Assert.Equal(ReasonCode.SourceMismatch, decision.Reason);
        Assert.Equal("finance", decision.SourceSegment);
        Assert.Equal("echo", decision.RouteId);
        Assert.Null(decision.RuleName);
    }

    [Fact]
    public void SourceMismatch_ComesBeforeDenyRules()
    {
        var policy = TestPolicy.Policy(
            TestPolicy.Segment(
                "hr",
                TestPolicy.Route("echo", "/{**rest}").WithDeny(TestPolicy.Workloads("block", null, DemoPolicy.LedgerSync))),
            TestPolicy.Segment("finance").WithMembers([DemoPolicy.LedgerSync], ["10.30.0.0/16"]));

        var decision = EngineAssert.Decide(TestRequests.Engine(policy), TestRequests.For(TestRequests.Workload(DemoPolicy.LedgerSync), "/x", address: "10.20.0.1"));

        Assert.Equal(ReasonCode.SourceMismatch, decision.Reason);
    }

    [Fact]
    public void SourceMismatch_NeverForUsers()
    {
        // People roam: a user on an hr device calling from the finance network is not a mismatch.
        var request = TestRequests.For(TestRequests.Alice, "/x", address: "10.30.1.1").WithDevice(TestRequests.HrLaptop);

        var decision = EngineAssert.Decide(Engine, request);

        Assert.True(decision.Allowed);
        Assert.Equal("hr", decision.SourceSegment);
    }
}
