using System.Net;
using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Engine;

namespace ZtGateway.Audit;

/// <summary>How serious a finding is; the audit line gives it as the OCSF <c>severity_id</c>.</summary>
internal enum FindingSeverity
{
    /// <summary>Worth a look: 3 (Medium).</summary>
    Medium,

    /// <summary>Rarely innocent: 4 (High).</summary>
    High,
}

/// <summary>How a finding was reached; the audit line gives it as the OCSF analytic type.</summary>
internal enum FindingAnalytic
{
    /// <summary>One request matched a rule: 1 (Rule).</summary>
    Rule,

    /// <summary>Behaviour over time crossed a line (a count in a window, a first-seen pair): 2 (Behavioral).</summary>
    Behavioral,
}

/// <summary>
/// One lateral-movement finding, as the audit trail records it: an OCSF Detection Finding (class 2004) line.
/// </summary>
internal sealed record FindingEvent
{
    /// <summary>Unique id of the finding.</summary>
    public required string Id { get; init; }

    /// <summary>When it was raised.</summary>
    public required DateTimeOffset Time { get; init; }

    /// <summary>The kebab-case code of what it is about, e.g. <c>segment-fan-out</c>.</summary>
    public required string Code { get; init; }

    /// <summary>A short title for it.</summary>
    public required string Title { get; init; }

    public required FindingSeverity Severity { get; init; }

    public required FindingAnalytic Analytic { get; init; }

    /// <summary>One sentence for the analyst.</summary>
    public required string Description { get; init; }

    /// <summary>The principal id (a user's <c>sub</c>, a workload's id) of the request that raised it.</summary>
    public required string PrincipalId { get; init; }

    public required PrincipalKind PrincipalKind { get; init; }

    /// <summary>The verified device of that request, if any.</summary>
    public string? DeviceId { get; init; }

    public IPAddress? ClientAddress { get; init; }

    /// <summary>Whose behaviour crossed the line: <c>principal</c>, <c>device</c> or both.</summary>
    public required string Scope { get; init; }

    public required string SourceSegment { get; init; }

    public required string DestinationSegment { get; init; }

    public string? RouteId { get; init; }

    /// <summary>What was counted in the window; 1 for the kinds without a count.</summary>
    public required int Count { get; init; }

    /// <summary>The configured limit the count went over; 0 for the kinds without a limit.</summary>
    public required int Threshold { get; init; }

    public required TimeSpan Window { get; init; }

    /// <summary>Alert only observes; contain quarantines from now on.</summary>
    public required DetectionResponse Response { get; init; }

    /// <summary>In contain mode: when the quarantine placed because of this finding lapses.</summary>
    public DateTimeOffset? ContainedUntil { get; init; }

    /// <summary>The decision that raised it.</summary>
    public required string DecisionId { get; init; }

    public required string TraceId { get; init; }

    public required string PolicyVersion { get; init; }
}
