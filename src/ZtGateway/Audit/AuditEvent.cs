using System.Net;
using ZtGateway.Policy.Engine;

namespace ZtGateway.Audit;

/// <summary>The facts of one decision that the audit trail records.</summary>
internal sealed record AuditEvent
{
    public required DateTimeOffset Time { get; init; }

    public required string DecisionId { get; init; }

    public required string TraceId { get; init; }

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
