using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Engine;
using ZtGateway.Sources.Continuous;
using ZtGateway.Sources.Detection;

namespace ZtGateway.Tests.Detection;

public sealed class LateralMovementDetectorTests : IAsyncDisposable
{
    private static readonly DateTimeOffset Start = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);

    private readonly FakeTimeProvider _time = new(Start);
    private readonly Outlet _outlet = new();
    private DetectionSettings _settings = new()
    {
        Window = TimeSpan.FromMinutes(10),
        MaxDenials = 3,
        MaxSegments = 2,
        MaxRoutes = 3,
        LearningPeriod = TimeSpan.FromHours(1),
    };

    private LateralMovementDetector? _detector;

    private LateralMovementDetector Detector => _detector ??= new LateralMovementDetector(() => _settings, _outlet, _time, NullLogger.Instance, Start, []);

    public async ValueTask DisposeAsync()
    {
        if (_detector is not null)
        {
            await _detector.DisposeAsync();
        }
    }

    private static Principal User(string sub) => new() { Kind = PrincipalKind.User, Subject = sub, Issuer = "https://idp.test" };

    private static Principal Workload(string id) => new() { Kind = PrincipalKind.Workload, Subject = id, WorkloadId = id };

    private void See(Principal principal, bool allowed, string destination = "finance", string? route = "ledger", string source = "finance",
        ReasonCode? reason = null, string? device = null)
    {
        var decision = new Decision
        {
            Allowed = allowed,
            Reason = reason ?? (allowed ? ReasonCode.Allowed : ReasonCode.NoMatchingRule),
            DestinationSegment = destination,
            SourceSegment = source,
            RouteId = route,
        };
        var request = new RequestContext
        {
            Segment = destination,
            Method = "GET",
            Path = "/x",
            ClientAddress = IPAddress.Loopback,
            Token = TokenStatus.Valid,
            Principal = principal,
            DeviceStatus = device is null ? DeviceStatus.Absent : DeviceStatus.Verified,
            Device = device is null ? null : new DevicePosture { DeviceId = device, Segment = source },
        };
        Detector.Observe(decision, request, "decision-" + Guid.NewGuid().ToString("N"), "trace");
    }

    private IEnumerable<FindingKind> Kinds => _outlet.Reported.Select(f => f.Kind);

    [Fact]
    public void DenialBurst_IsRaisedWhenTheCountGoesOverTheLimit_Once()
    {
        var mallory = User("mallory");
        for (var i = 0; i < 3; i++)
        {
            See(mallory, allowed: false);
        }

        Assert.Empty(_outlet.Reported);
        See(mallory, allowed: false);
        See(mallory, allowed: false);

        var finding = Assert.Single(_outlet.Reported);
        Assert.Equal(FindingKind.DenialBurst, finding.Kind);
        Assert.Equal("mallory", finding.PrincipalId);
        Assert.Equal(4, finding.Count);
        Assert.Equal(3, finding.Threshold);
        Assert.Equal(DetectionResponse.Alert, finding.Response);
        Assert.Null(finding.ContainedUntil);
    }

    [Fact]
    public void Denials_SlideOutOfTheWindow()
    {
        var mallory = User("mallory");
        for (var i = 0; i < 3; i++)
        {
            See(mallory, allowed: false);
        }

        _time.Advance(TimeSpan.FromMinutes(11));
        See(mallory, allowed: false);

        Assert.Empty(_outlet.Reported);
    }

    [Fact]
    public void Denials_ArePerPrincipal()
    {
        for (var i = 0; i < 4; i++)
        {
            See(User("user-" + i), allowed: false);
        }

        Assert.Empty(_outlet.Reported);
    }

    [Fact]
    public void AnotherBurst_AfterTheWindow_IsANewFinding()
    {
        var mallory = User("mallory");
        for (var i = 0; i < 4; i++)
        {
            See(mallory, allowed: false);
        }

        _time.Advance(TimeSpan.FromMinutes(11));
        for (var i = 0; i < 4; i++)
        {
            See(mallory, allowed: false);
        }

        Assert.Equal([FindingKind.DenialBurst, FindingKind.DenialBurst], Kinds);
    }

    [Fact]
    public void SegmentFanOut_CountsDistinctDestinations()
    {
        var mallory = User("mallory");
        See(mallory, allowed: true, destination: "finance");
        See(mallory, allowed: true, destination: "finance");
        See(mallory, allowed: false, destination: "hr", route: "payroll");
        Assert.Empty(_outlet.Reported);

        See(mallory, allowed: false, destination: "engineering", route: "builds");

        var finding = Assert.Single(_outlet.Reported, f => f.Kind == FindingKind.SegmentFanOut);
        Assert.Equal(3, finding.Count);
        Assert.Equal("engineering", finding.DestinationSegment);
    }

    [Fact]
    public void RouteFanOut_CountsDistinctRoutes()
    {
        var alice = User("alice");
        foreach (var route in new[] { "a", "b", "c", "a", "b" })
        {
            See(alice, allowed: true, route: route);
        }

        Assert.Empty(_outlet.Reported);
        See(alice, allowed: true, route: "d");

        Assert.Equal(FindingKind.RouteFanOut, Assert.Single(_outlet.Reported).Kind);
    }

    [Fact]
    public async Task NewSegmentPair_IsQuietDuringLearning_AndRaisedOnceAfter()
    {
        var sync = Workload("spiffe://corp/finance/ledger-sync");
        See(sync, allowed: true, destination: "hr", route: "payroll");
        _time.Advance(TimeSpan.FromHours(2));

        See(sync, allowed: true, destination: "hr", route: "payroll");
        Assert.Empty(_outlet.Reported);

        See(User("mallory"), allowed: false, destination: "engineering", route: "builds");
        See(User("eve"), allowed: false, destination: "engineering", route: "builds");

        var finding = Assert.Single(_outlet.Reported);
        Assert.Equal(FindingKind.NewSegmentPair, finding.Kind);
        Assert.Equal("mallory", finding.PrincipalId);
        await Detector.FlushAsync();
        Assert.Equal(("finance", "engineering"), Assert.Single(_outlet.Remembered, p => p.Item2 == "engineering"));
    }

    [Fact]
    public void RefusedProbeDuringLearning_DoesNotBecomeTheBaseline()
    {
        See(User("mallory"), allowed: false, destination: "hr", route: "payroll");
        _time.Advance(TimeSpan.FromHours(2));

        See(User("mallory"), allowed: false, destination: "hr", route: "payroll");

        Assert.Contains(FindingKind.NewSegmentPair, Kinds);
    }

    [Fact]
    public void SourceMismatch_RaisesAFindingEveryTime()
    {
        var engine = Workload("spiffe://corp/hr/payroll-engine");

        See(engine, allowed: false, destination: "hr", source: "hr", reason: ReasonCode.SourceMismatch);
        See(engine, allowed: false, destination: "hr", source: "hr", reason: ReasonCode.SourceMismatch);

        Assert.Equal([FindingKind.SourceMismatch, FindingKind.SourceMismatch], Kinds);
        Assert.All(_outlet.Reported, f => Assert.Equal(PrincipalKind.Workload, f.PrincipalKind));
    }

    [Fact]
    public void QuarantineRefusals_AreNotCounted()
    {
        var mallory = User("mallory");
        for (var i = 0; i < 10; i++)
        {
            See(mallory, allowed: false, reason: ReasonCode.PrincipalQuarantined, destination: "dst-" + i);
        }

        Assert.Empty(_outlet.Reported);
    }

    [Fact]
    public void DeviceWindow_CatchesABurstSpreadOverSeveralPrincipals()
    {
        for (var i = 0; i < 4; i++)
        {
            See(User("user-" + i), allowed: false, device: "laptop-9");
        }

        var finding = Assert.Single(_outlet.Reported);
        Assert.Equal(FindingKind.DenialBurst, finding.Kind);
        Assert.Equal("device", finding.Scope);
        Assert.Equal("laptop-9", finding.DeviceId);
    }

    [Fact]
    public async Task ContainMode_HandsTheFindingToContainment()
    {
        _settings = _settings with { Response = DetectionResponse.Contain, ContainFor = TimeSpan.FromMinutes(30) };
        var mallory = User("mallory");
        for (var i = 0; i < 4; i++)
        {
            See(mallory, allowed: false, device: "laptop-1");
        }

        await Detector.FlushAsync();

        var contained = Assert.Single(_outlet.Contained);
        Assert.Equal("mallory", contained.PrincipalId);
        Assert.Equal("laptop-1", contained.DeviceId);
        Assert.Equal(Start + TimeSpan.FromMinutes(30), contained.ContainedUntil);
        Assert.Equal("principal,device", contained.Scope);
    }

    [Fact]
    public async Task AlertMode_ContainsNothing()
    {
        var mallory = User("mallory");
        for (var i = 0; i < 4; i++)
        {
            See(mallory, allowed: false);
        }

        await Detector.FlushAsync();

        Assert.Single(_outlet.Reported);
        Assert.Empty(_outlet.Contained);
    }

    [Fact]
    public void Findings_AreCounted_ByKindAndResponse()
    {
        var counted = new List<(long Value, string? Kind, string? Response)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "ZtGateway" && instrument.Name == "ztgw.detection.findings")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            string? kind = null, response = null;
            foreach (var tag in tags)
            {
                kind = tag.Key == "kind" ? tag.Value as string : kind;
                response = tag.Key == "response" ? tag.Value as string : response;
            }

            // Other tests in the process raise findings too; only this principal's source is ours.
            if (kind == "source-mismatch")
            {
                lock (counted)
                {
                    counted.Add((value, kind, response));
                }
            }
        });
        listener.Start();

        See(Workload("spiffe://corp/metrics/probe"), allowed: false, destination: "hr", source: "hr", reason: ReasonCode.SourceMismatch);

        lock (counted)
        {
            Assert.Contains((1L, "source-mismatch", "alert"), counted);
        }
    }

    [Fact]
    public void Finding_IsAnEventOnTheCurrentSpan()
    {
        using var source = new ActivitySource("ztgw-detection-test");
        using var activityListener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == "ztgw-detection-test",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(activityListener);
        using var activity = source.StartActivity("ztgw.decision");

        See(Workload("spiffe://corp/hr/payroll-engine"), allowed: false, destination: "hr", source: "hr", reason: ReasonCode.SourceMismatch);

        var finding = Assert.Single(activity!.Events);
        Assert.Equal("ztgw.detection.finding", finding.Name);
        Assert.Contains(finding.Tags, t => t.Key == "ztgw.finding.kind" && (string?)t.Value == "source-mismatch");
    }

    [Fact]
    public void APairLearnedByAnotherGateway_IsNotNew()
    {
        Detector.Learn(new JournalRecord { Type = JournalRecordTypes.Pair, Time = Start, SourceSegment = "finance", DestinationSegment = "hr" });
        _time.Advance(TimeSpan.FromHours(2));

        See(User("alice"), allowed: true, destination: "hr", route: "payroll");
        See(User("bob"), allowed: true, destination: "engineering", route: "builds");

        Assert.Equal(FindingKind.NewSegmentPair, Assert.Single(_outlet.Reported).Kind);
        Assert.Equal("bob", _outlet.Reported[0].PrincipalId);
    }

    [Fact]
    public void TheEarliestLearningStart_OfTheDeployment_Wins()
    {
        Detector.Learn(new JournalRecord { Type = JournalRecordTypes.Learning, Time = Start, At = Start.AddHours(-5) });
        Detector.Learn(new JournalRecord { Type = JournalRecordTypes.Learning, Time = Start, At = Start.AddHours(3) });

        Assert.Equal(Start.AddHours(-5), Detector.LearningSince);

        // Learning is over for the deployment: a first-seen pair now is a finding at once.
        See(User("mallory"), allowed: true, destination: "hr", route: "payroll");
        Assert.Equal(FindingKind.NewSegmentPair, Assert.Single(_outlet.Reported).Kind);
    }

    [Fact]
    public void KnownPairs_FromTheStateFile_AreNotNew()
    {
        _detector = new LateralMovementDetector(() => _settings, _outlet, _time, NullLogger.Instance, Start, [("finance", "hr")]);
        _time.Advance(TimeSpan.FromHours(2));

        See(User("alice"), allowed: true, destination: "hr", route: "payroll");

        Assert.Empty(_outlet.Reported);
    }

    private sealed class Outlet : IDetectionOutlet
    {
        private readonly List<DetectionFinding> _reported = [];
        private readonly List<DetectionFinding> _contained = [];
        private readonly List<(string, string)> _remembered = [];

        public IReadOnlyList<DetectionFinding> Reported
        {
            get
            {
                lock (_reported)
                {
                    return [.. _reported];
                }
            }
        }

        public IReadOnlyList<DetectionFinding> Contained
        {
            get
            {
                lock (_contained)
                {
                    return [.. _contained];
                }
            }
        }

        public IReadOnlyList<(string, string)> Remembered
        {
            get
            {
                lock (_remembered)
                {
                    return [.. _remembered];
                }
            }
        }

        public void Report(DetectionFinding finding)
        {
            lock (_reported)
            {
                _reported.Add(finding);
            }
        }

        public void Contain(DetectionFinding finding)
        {
            lock (_contained)
            {
                _contained.Add(finding);
            }
        }

        public void Remember(string sourceSegment, string destinationSegment, DateTimeOffset at)
        {
            lock (_remembered)
            {
                _remembered.Add((sourceSegment, destinationSegment));
            }
        }
    }
}
