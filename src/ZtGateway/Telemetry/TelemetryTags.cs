namespace ZtGateway.Telemetry;

/// <summary>Attribute names shared by the <c>ztgw.decision</c> span and the <c>ztgw.*</c> metrics (docs/design.md section 6).</summary>
internal static class TelemetryTags
{
    public const string SourceSegment = "ztgw.segment.src";
    public const string DestinationSegment = "ztgw.segment.dst";
    public const string Route = "ztgw.route";
    public const string Rule = "ztgw.rule";
    public const string Decision = "ztgw.decision";
    public const string Reason = "ztgw.reason";
    public const string DecisionId = "ztgw.decision_id";
    public const string Service = "ztgw.service";
    public const string UpstreamError = "ztgw.upstream.error";
}
