using ZtGateway.Policy.Engine;

namespace ZtGateway.Policy.Tests.Engine;

public class AllocationTests
{
    public static TheoryData<string> Requests => new()
    {
        "allowed", "route-not-found", "token-missing", "mfa-required", "device-missing", "denied-by-rule",
        "segment-not-allowed", "no-matching-rule", "source-mismatch", "mapped-ipv4-workload",
    };

    [Theory]
    [MemberData(nameof(Requests))]
    public void Decide_AllocatesNothingOnceWarm(string name)
    {
        var engine = new PolicyEngine(DemoPolicy.Create(), TimeProvider.System);
        var request = name switch
        {
            "allowed" => TestRequests.AliceRequest(),
            "route-not-found" => TestRequests.AliceRequest("/payroll//admin"),
            "token-missing" => TestRequests.For(null),
            "mfa-required" => TestRequests.AliceRequest().WithPrincipal(p => p with { Amr = ["pwd"] }),
            "device-missing" => TestRequests.AliceRequest().WithDevice(null),
            "denied-by-rule" => TestRequests.AliceRequest("/payroll/admin/x").WithPrincipal(p => p with { Groups = ["contractors"] }),
            "segment-not-allowed" => TestRequests.AliceRequest().WithDevice(TestRequests.HrLaptop with { Segment = "engineering" }),
            "no-matching-rule" => TestRequests.AliceRequest().WithPrincipal(p => p with { Groups = ["x"] }),
            "source-mismatch" => TestRequests.For(TestRequests.Workload(DemoPolicy.LedgerSync), address: "10.20.0.1"),
            _ => TestRequests.For(TestRequests.Workload(DemoPolicy.LedgerSync), address: "::ffff:10.30.0.1"),
        };
        var expected = engine.Decide(request);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            Assert.Same(expected, engine.Decide(request));
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
    }
}
