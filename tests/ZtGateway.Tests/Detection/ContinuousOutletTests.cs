using System.Net;
using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Engine;
using ZtGateway.Sources.Continuous;
using ZtGateway.Sources.Detection;
using ZtGateway.Tests.Continuous;

namespace ZtGateway.Tests.Detection;

/// <summary>
/// Where the detector's results go in a running gateway: findings to the live audit sinks as this exact OCSF line,
/// containment to quarantine holds, learned pairs to the state file.
/// </summary>
public sealed class ContinuousOutletTests : IDisposable
{
    private static readonly DateTimeOffset Start = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);

    private readonly TemporaryContinuous _store = new(Start);

    public void Dispose() => _store.Dispose();

    private ContinuousOutlet Outlet => new(_store.Continuous, _store.Context, _store.Time);

    private static DetectionFinding Alert(FindingKind kind) => new()
    {
        Id = "f-1",
        Time = Start,
        Kind = kind,
        PrincipalId = "spiffe://corp/finance/ledger-sync",
        PrincipalKind = PrincipalKind.Workload,
        Scope = "principal",
        SourceSegment = "finance",
        DestinationSegment = "engineering",
        DecisionId = "d-9",
        TraceId = "0af7651916cd43dd8448eb211c80319c",
        Window = TimeSpan.FromMinutes(10),
        Response = DetectionResponse.Alert,
        Description = "first request from segment finance to segment engineering since learning ended",
    };

    private static DetectionFinding Contained() => Alert(FindingKind.SegmentFanOut) with
    {
        Id = "f-2",
        PrincipalId = "mallory",
        PrincipalKind = PrincipalKind.User,
        DeviceId = "laptop-9",
        Scope = "principal,device",
        RouteId = "builds",
        ClientAddress = IPAddress.Parse("10.10.1.2"),
        Count = 3,
        Threshold = 2,
        Response = DetectionResponse.Contain,
        ContainedUntil = Start.AddMinutes(30),
        Description = "requests to 3 \"distinct\" segments within 00:10:00; the limit is 2",
    };

    [Theory]
    [InlineData("DenialBurst", "denial-burst", "Burst of denied requests", 3, 2, "Behavioral")]
    [InlineData("SegmentFanOut", "segment-fan-out", "Fan-out to many segments", 4, 2, "Behavioral")]
    [InlineData("RouteFanOut", "route-fan-out", "Fan-out to many routes", 3, 2, "Behavioral")]
    [InlineData("NewSegmentPair", "new-segment-pair", "First-seen segment pair", 3, 2, "Behavioral")]
    [InlineData("SourceMismatch", "source-mismatch", "Workload token used outside its segment", 4, 1, "Rule")]
    public void Report_WritesAnAlertAsThisLine(string kind, string code, string title, int severity, int analyticId, string analytic)
    {
        Outlet.Report(Alert(Enum.Parse<FindingKind>(kind)));

        var expected = """
            {"time":1800000000000,"class_uid":2004,"class_name":"Detection Finding","category_uid":2,"category_name":"Findings","activity_id":1,"activity_name":"Create","type_uid":200401,"severity_id":<severity>,"severity":"<severity-name>","status_id":1,"status":"New","action_id":3,"action":"Observed","disposition_id":15,"disposition":"Detected","is_alert":true,"message":"first request from segment finance to segment engineering since learning ended","metadata":{"uid":"f-1","version":"1.8.0","profiles":["security_control","host"],"product":{"name":"ZtGateway","vendor_name":"ZtGateway"}},"finding_info":{"uid":"f-1","title":"<title>","desc":"first request from segment finance to segment engineering since learning ended","types":["lateral-movement","<code>"],"analytic":{"uid":"<code>","name":"<title>","type_id":<analytic-id>,"type":"<analytic>"},"last_seen_time":1800000000000,"related_events":[{"uid":"d-9","type_name":"HTTP Activity"}]},"actor":{"user":{"uid":"spiffe://corp/finance/ledger-sync","type_id":3,"type":"System"}},"evidences":[{"actor":{"user":{"uid":"spiffe://corp/finance/ledger-sync","type_id":3,"type":"System"}},"dst_endpoint":{"svc_name":"engineering"}}],"observables":[{"name":"actor.user.uid","type_id":31,"value":"spiffe://corp/finance/ledger-sync"}],"unmapped":{"ztgw":{"detection":"<code>","scope":"principal","src_segment":"finance","dst_segment":"engineering","count":1,"threshold":0,"window_seconds":600,"response":"alert","decision_id":"d-9","trace_id":"0af7651916cd43dd8448eb211c80319c","policy_version":"v1"}}}
            """
            .Replace("<severity>", severity.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("<severity-name>", severity == 4 ? "High" : "Medium", StringComparison.Ordinal)
            .Replace("<title>", title, StringComparison.Ordinal)
            .Replace("<code>", code, StringComparison.Ordinal)
            .Replace("<analytic-id>", analyticId.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("<analytic>", analytic, StringComparison.Ordinal);
        Assert.Equal(expected, Assert.Single(_store.Context.Lines));
    }

    [Fact]
    public void Report_WritesAContainedFindingAsThisLine()
    {
        Outlet.Report(Contained());

        Assert.Equal("""
            {"time":1800000000000,"class_uid":2004,"class_name":"Detection Finding","category_uid":2,"category_name":"Findings","activity_id":1,"activity_name":"Create","type_uid":200401,"severity_id":4,"severity":"High","status_id":1,"status":"New","action_id":2,"action":"Denied","disposition_id":3,"disposition":"Quarantined","is_alert":true,"message":"requests to 3 \u0022distinct\u0022 segments within 00:10:00; the limit is 2","metadata":{"uid":"f-2","version":"1.8.0","profiles":["security_control","host"],"product":{"name":"ZtGateway","vendor_name":"ZtGateway"}},"finding_info":{"uid":"f-2","title":"Fan-out to many segments","desc":"requests to 3 \u0022distinct\u0022 segments within 00:10:00; the limit is 2","types":["lateral-movement","segment-fan-out"],"analytic":{"uid":"segment-fan-out","name":"Fan-out to many segments","type_id":2,"type":"Behavioral"},"last_seen_time":1800000000000,"related_events":[{"uid":"d-9","type_name":"HTTP Activity"}]},"actor":{"user":{"uid":"mallory","type_id":1,"type":"User"}},"device":{"uid":"laptop-9","type_id":0,"type":"Unknown"},"evidences":[{"actor":{"user":{"uid":"mallory","type_id":1,"type":"User"}},"src_endpoint":{"ip":"10.10.1.2"},"dst_endpoint":{"svc_name":"engineering"}}],"observables":[{"name":"actor.user.uid","type_id":31,"value":"mallory"},{"name":"device.uid","type_id":47,"value":"laptop-9"}],"unmapped":{"ztgw":{"detection":"segment-fan-out","scope":"principal,device","src_segment":"finance","dst_segment":"engineering","route":"builds","src_ip":"10.10.1.2","count":3,"threshold":2,"window_seconds":600,"response":"contain","contained_until":1800001800000,"decision_id":"d-9","trace_id":"0af7651916cd43dd8448eb211c80319c","policy_version":"v1"}}}
            """, Assert.Single(_store.Context.Lines));
    }

    [Fact]
    public void Contain_HoldsThePrincipalAndTheDevice_UntilTheFindingSays()
    {
        _store.Time.Advance(TimeSpan.FromSeconds(2));
        Outlet.Contain(Contained());

        var now = _store.Time.GetUtcNow();
        Assert.True(_store.Continuous.Quarantines.IsQuarantined(QuarantineTargets.Principal, "mallory", now));
        Assert.True(_store.Continuous.Quarantines.IsQuarantined(QuarantineTargets.Device, "laptop-9", now));
        Assert.False(_store.Continuous.Quarantines.IsQuarantined(QuarantineTargets.Principal, "mallory", Start.AddMinutes(30)));
        Assert.Equal(
            [
                """
                {"time":1800000002000,"class_uid":3004,"class_name":"Entity Management","category_uid":3,"category_name":"Identity \u0026 Access Management","activity_id":1,"activity_name":"Create","type_uid":300401,"severity_id":3,"severity":"Medium","status_id":1,"status":"Success","message":"hold mallory (segment-fan-out finding f-2)","metadata":{"uid":"<id>","version":"1.8.0","profiles":["host"],"product":{"name":"ZtGateway","vendor_name":"ZtGateway"}},"entity":{"uid":"mallory","type":"quarantine:principal","user":{"uid":"mallory"}},"actor":{"user":{"uid":"ztgw-detection"}},"observables":[{"name":"entity.user.uid","type_id":31,"value":"mallory"},{"name":"actor.user.uid","type_id":31,"value":"ztgw-detection"}],"unmapped":{"ztgw":{"change":"hold","target":"principal","id":"mallory","origin":"detection","reason":"segment-fan-out finding f-2","at":1800000000000,"until":1800001800000}}}
                """,
                """
                {"time":1800000002000,"class_uid":3004,"class_name":"Entity Management","category_uid":3,"category_name":"Identity \u0026 Access Management","activity_id":1,"activity_name":"Create","type_uid":300401,"severity_id":3,"severity":"Medium","status_id":1,"status":"Success","message":"hold laptop-9 (segment-fan-out finding f-2)","metadata":{"uid":"<id>","version":"1.8.0","profiles":["host"],"product":{"name":"ZtGateway","vendor_name":"ZtGateway"}},"entity":{"uid":"laptop-9","type":"quarantine:device","device":{"uid":"laptop-9","type_id":0,"type":"Unknown"}},"actor":{"user":{"uid":"ztgw-detection"}},"observables":[{"name":"entity.device.uid","type_id":47,"value":"laptop-9"},{"name":"actor.user.uid","type_id":31,"value":"ztgw-detection"}],"unmapped":{"ztgw":{"change":"hold","target":"device","id":"laptop-9","origin":"detection","reason":"segment-fan-out finding f-2","at":1800000000000,"until":1800001800000}}}
                """,
            ],
            _store.Context.Lines.Select(StateChangeLineTests.WithoutRandomId));
    }

    [Fact]
    public void Contain_WithoutADevice_HoldsThePrincipalOnly()
    {
        Outlet.Contain(Contained() with { DeviceId = null });

        Assert.Single(_store.Context.Lines);
        Assert.True(_store.Continuous.Quarantines.IsQuarantined(QuarantineTargets.Principal, "mallory", Start));
        Assert.False(_store.Continuous.Quarantines.IsQuarantined(QuarantineTargets.Device, "laptop-9", Start));
    }

    [Fact]
    public void Remember_WritesThePairToTheStateFile_WithoutAuditing()
    {
        Outlet.Remember("finance", "engineering", Start.AddSeconds(1));

        Assert.Empty(_store.Context.Lines);
        Assert.Equal("""{"type":"pair","time":"2027-01-15T08:00:01+00:00","src":"finance","dst":"engineering"}""",
            File.ReadLines(_store.Continuous.StateFile).Last());
    }
}
