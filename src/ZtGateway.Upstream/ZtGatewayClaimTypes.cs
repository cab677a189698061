namespace ZtGateway.Upstream;

/// <summary>
/// Claim types of a verified gateway assertion. They are the JWT claim names unchanged, so
/// <c>User.FindFirst(ZtGatewayClaimTypes.SourceSegment)</c> reads the <c>src_segment</c> claim.
/// </summary>
public static class ZtGatewayClaimTypes
{
    /// <summary><c>sub</c>: the caller, a user subject or a workload id (for example a SPIFFE id).</summary>
    public const string Subject = "sub";

    /// <summary><c>principal_type</c>: <c>user</c> or <c>workload</c>.</summary>
    public const string PrincipalType = "principal_type";

    /// <summary><c>src_segment</c>: the segment the gateway placed the caller in.</summary>
    public const string SourceSegment = "src_segment";

    /// <summary><c>dst_segment</c>: the segment of the gateway listener that forwarded the request.</summary>
    public const string DestinationSegment = "dst_segment";

    /// <summary><c>route</c>: the id of the route that matched.</summary>
    public const string Route = "route";

    /// <summary><c>rule</c>: the name of the allow rule that admitted the request.</summary>
    public const string Rule = "rule";

    /// <summary><c>device_id</c>: the verified device, absent when the caller presented none.</summary>
    public const string DeviceId = "device_id";

    /// <summary><c>amr</c>: authentication methods (RFC 8176), one claim per method; may be absent.</summary>
    public const string AuthenticationMethods = "amr";

    /// <summary><c>decision_id</c>: the gateway's decision id, the key into its audit log.</summary>
    public const string DecisionId = "decision_id";

    /// <summary><c>jti</c>: the assertion's unique id.</summary>
    public const string AssertionId = "jti";
}
