using System.Net;
using BenchmarkDotNet.Attributes;
using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Engine;

namespace ZtGateway.Benchmarks;

/// <summary>
/// The decision engine's cost per request: a user allowed in their own segment, and a workload crossing into
/// a neighbour under its grant, on a 3-segment policy and on a 200-segment, 5,000-route one.
/// </summary>
[MemoryDiagnoser]
public class DecisionBenchmarks
{
    private PolicyEngine _engine = null!;
    private RequestContext _user = null!;
    private RequestContext _workload = null!;
    private RequestContext _lateral = null!;

    [Params(3, 200)]
    public int Segments { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var routes = Segments == 3 ? 5 : 25;
        _engine = new PolicyEngine(SyntheticPolicy.Create(Segments, routes), TimeProvider.System);
        var target = "seg" + (Segments / 2);
        var neighbour = "seg" + (Segments / 2 + 1);
        var path = $"/app{routes - 2}/items/42/details";
        _user = new RequestContext
        {
            Segment = target,
            Method = "GET",
            Path = path,
            ClientAddress = IPAddress.Parse("192.0.2.10"),
            Token = TokenStatus.Valid,
            Principal = new Principal
            {
                Kind = PrincipalKind.User,
                Subject = "alice",
                Groups = [target + "-staff"],
                Amr = ["pwd", "mfa"],
                AuthTime = DateTimeOffset.UtcNow.AddMinutes(-5),
            },
            DeviceStatus = DeviceStatus.Verified,
            Device = new DevicePosture { DeviceId = "laptop-7", Segment = target, Compliant = true, Managed = true, Risk = RiskLevel.Low },
        };
        _workload = new RequestContext
        {
            Segment = target,
            Method = "GET",
            Path = path,
            ClientAddress = IPAddress.Parse($"10.0.{Segments / 2 + 1}.7"),
            Token = TokenStatus.Valid,
            Principal = new Principal { Kind = PrincipalKind.Workload, Subject = $"spiffe://corp/{neighbour}/sync", WorkloadId = $"spiffe://corp/{neighbour}/sync" },
        };
        _lateral = _user with { Device = _user.Device! with { Segment = neighbour } };

        var (user, workload, lateral) = (_engine.Decide(_user), _engine.Decide(_workload), _engine.Decide(_lateral));
        if (!user.Allowed || !workload.Allowed || lateral.Reason != ReasonCode.SegmentNotAllowed)
        {
            throw new InvalidOperationException(
                $"the benchmark requests do not get the decisions they are meant to measure: {user.Reason}, {workload.Reason}, {lateral.Reason}");
        }
    }

    [Benchmark(Baseline = true)]
    public Decision UserInOwnSegment() => _engine.Decide(_user);

    [Benchmark]
    public Decision WorkloadUnderGrant() => _engine.Decide(_workload);

    [Benchmark]
    public Decision UserMovingLaterally() => _engine.Decide(_lateral);
}
