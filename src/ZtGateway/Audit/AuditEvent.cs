using System.Net;
using ZtGateway.Policy.Engine;

namespace ZtGateway.Audit;

/// <summary>The facts of one decision that the audit trail records.</summary>
internal sealed record AuditEvent
{
    public required DateTimeOffset Time { get; init; }

    public required string DecisionId { get; init; }

    public required string TraceId { get; init; }

    /// <summary>
    /// The gateway's span in <see cref="TraceId"/> (16 hex digits): the decision span when spans are recorded, else
    /// the caller's parent id, else the parent id sent upstream. Not in the OCSF line; an <c>otlp</c> sink puts it in
    /// its record's trace context.
    /// </summary>
    public string? SpanId { get; init; }

    public required Decision Decision { get; init; }

    /// <summary>The reason to record: the decision's, or the upstream failure that followed an allow.</summary>
    public required ReasonCode Reason { get; init; }

    public required string Method { get; init; }

    public required string Path { get; init; }

    public required int StatusCode { get; init; }

    public IPAddress? ClientAddress { get; init; }

    public Principal? Principal { get; init; }

    public DevicePosture? Device { get; init; }

    public required string PolicyVersion { get; init; }
}
