using System.Net;
using System.Text.Json;
using ZtGateway.Audit;
using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Engine;

namespace ZtGateway.Tests.Audit;

public sealed class DetectionFindingLineTests
{
    private static FindingEvent Finding(DetectionResponse response) => new()
    {
        Id = "f-1",
        Time = DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_000_000),
        Code = "segment-fan-out",
        Title = "Fan-out to many segments",
        Severity = FindingSeverity.High,
        Analytic = FindingAnalytic.Behavioral,
        PrincipalId = "mallory",
        PrincipalKind = PrincipalKind.User,
        DeviceId = "laptop-9",
        Scope = "principal",
        SourceSegment = "finance",
        DestinationSegment = "engineering",
        RouteId = "builds",
        ClientAddress = IPAddress.Parse("10.10.1.2"),
        DecisionId = "d-9",
        TraceId = "0af7651916cd43dd8448eb211c80319c",
        Count = 3,
        Threshold = 2,
        Window = TimeSpan.FromMinutes(10),
        Response = response,
        ContainedUntil = response == DetectionResponse.Contain ? DateTimeOffset.FromUnixTimeMilliseconds(1_800_001_800_000) : null,
        Description = "requests to 3 distinct segments",
        PolicyVersion = "v1",
    };

    [Fact]
    public void Finding_IsAnOcsfDetectionFinding()
    {
        using var json = JsonDocument.Parse(OcsfWriter.DetectionFinding(Finding(DetectionResponse.Alert)));
        var root = json.RootElement;

        Assert.Equal(2004, root.GetProperty("class_uid").GetInt32());
        Assert.Equal(2, root.GetProperty("category_uid").GetInt32());
        Assert.Equal(200401, root.GetProperty("type_uid").GetInt32());
        Assert.Equal(1_800_000_000_000, root.GetProperty("time").GetInt64());
        Assert.Equal(4, root.GetProperty("severity_id").GetInt32());
        Assert.Equal("f-1", root.GetProperty("finding_info").GetProperty("uid").GetString());
        Assert.Equal("segment-fan-out", root.GetProperty("finding_info").GetProperty("analytic").GetProperty("uid").GetString());
        Assert.Equal("d-9", root.GetProperty("finding_info").GetProperty("related_events")[0].GetProperty("uid").GetString());
        Assert.Equal("mallory", root.GetProperty("actor").GetProperty("user").GetProperty("uid").GetString());
        Assert.Equal("laptop-9", root.GetProperty("device").GetProperty("uid").GetString());
        Assert.Equal("10.10.1.2", root.GetProperty("evidences")[0].GetProperty("src_endpoint").GetProperty("ip").GetString());
        Assert.Equal(3, root.GetProperty("action_id").GetInt32());
        var ztgw = root.GetProperty("unmapped").GetProperty("ztgw");
        Assert.Equal("finance", ztgw.GetProperty("src_segment").GetString());
        Assert.Equal("engineering", ztgw.GetProperty("dst_segment").GetString());
        Assert.Equal(600, ztgw.GetProperty("window_seconds").GetInt32());
        Assert.Equal("alert", ztgw.GetProperty("response").GetString());
        Assert.False(ztgw.TryGetProperty("contained_until", out _));
    }

    [Fact]
    public void ContainedFinding_SaysQuarantinedAndUntilWhen()
    {
        using var json = JsonDocument.Parse(OcsfWriter.DetectionFinding(Finding(DetectionResponse.Contain)));
        var root = json.RootElement;

        Assert.Equal(2, root.GetProperty("action_id").GetInt32());
        Assert.Equal(3, root.GetProperty("disposition_id").GetInt32());
        Assert.Equal(1_800_001_800_000, root.GetProperty("unmapped").GetProperty("ztgw").GetProperty("contained_until").GetInt64());
    }
}
