using System.Net;
using ZtGateway.Audit;
using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Engine;

namespace ZtGateway.Sources.Detection;

/// <summary>What a lateral-movement finding is about.</summary>
internal enum FindingKind
{
    /// <summary><c>denial-burst</c>: more denials than <c>detection.maxDenials</c> within the window.</summary>
    DenialBurst,

    /// <summary><c>segment-fan-out</c>: more distinct destination segments than <c>detection.maxSegments</c> within the window.</summary>
    SegmentFanOut,

    /// <summary><c>route-fan-out</c>: more distinct routes than <c>detection.maxRoutes</c> within the window.</summary>
    RouteFanOut,

    /// <summary><c>new-segment-pair</c>: a source-to-destination segment pair never seen before, after the learning period.</summary>
    NewSegmentPair,

    /// <summary><c>source-mismatch</c>: a workload token used from a network outside its segment.</summary>
    SourceMismatch,
}

/// <summary>Codes and wording of <see cref="FindingKind"/>, used alike in audit lines, metrics and span events.</summary>
internal static class FindingKinds
{
    public const int Count = 5;

    private static readonly string[] Codes = ["denial-burst", "segment-fan-out", "route-fan-out", "new-segment-pair", "source-mismatch"];

    private static readonly string[] Titles =
    [
        "Burst of denied requests",
        "Fan-out to many segments",
        "Fan-out to many routes",
        "First-seen segment pair",
        "Workload token used outside its segment",
    ];

    /// <summary>The kebab-case code, e.g. <c>segment-fan-out</c>.</summary>
    public static string ToCode(this FindingKind kind) => Codes[(int)kind];

    /// <summary>A short title for the finding.</summary>
    public static string Title(this FindingKind kind) => Titles[(int)kind];

    /// <summary>High for what is rarely innocent, medium otherwise.</summary>
    public static FindingSeverity Severity(this FindingKind kind) =>
        kind is FindingKind.SourceMismatch or FindingKind.SegmentFanOut ? FindingSeverity.High : FindingSeverity.Medium;

    /// <summary>A rule for what one request shows (a workload token out of its segment), behavioural for the rest.</summary>
    public static FindingAnalytic Analytic(this FindingKind kind) =>
        kind is FindingKind.SourceMismatch ? FindingAnalytic.Rule : FindingAnalytic.Behavioral;
}

/// <summary>One lateral-movement finding; written to the audit sinks as a <see cref="FindingEvent"/> (OCSF Detection Finding, class 2004).</summary>
internal sealed record DetectionFinding
{
    /// <summary>Unique id of the finding.</summary>
    public required string Id { get; init; }

    public required DateTimeOffset Time { get; init; }

    public required FindingKind Kind { get; init; }

    /// <summary>The principal id (a user's <c>sub</c>, a workload's id) of the request that raised it.</summary>
    public required string PrincipalId { get; init; }

    public required PrincipalKind PrincipalKind { get; init; }

    /// <summary>The verified device of that request, if any.</summary>
    public string? DeviceId { get; init; }

    /// <summary>Whose behaviour crossed the line: <c>principal</c>, <c>device</c> or both.</summary>
    public required string Scope { get; init; }

    public required string SourceSegment { get; init; }

    public required string DestinationSegment { get; init; }

    public string? RouteId { get; init; }

    public IPAddress? ClientAddress { get; init; }

    /// <summary>The decision that raised it.</summary>
    public required string DecisionId { get; init; }

    public required string TraceId { get; init; }

    /// <summary>What was counted (denials, segments, routes) in the window; 1 for the kinds without a count.</summary>
    public int Count { get; init; } = 1;

    /// <summary>The configured limit the count went over; 0 for the kinds without a limit.</summary>
    public int Threshold { get; init; }

    public TimeSpan Window { get; init; }

    public required DetectionResponse Response { get; init; }

    /// <summary>In contain mode: when the quarantine placed because of this finding lapses.</summary>
    public DateTimeOffset? ContainedUntil { get; init; }

    /// <summary>One sentence for the analyst.</summary>
    public required string Description { get; init; }

    /// <summary>The finding as the audit trail records it, under policy <paramref name="policyVersion"/>.</summary>
    public FindingEvent ToAuditEvent(string policyVersion) => new()
    {
        Id = Id,
        Time = Time,
        Code = Kind.ToCode(),
        Title = Kind.Title(),
        Severity = Kind.Severity(),
        Analytic = Kind.Analytic(),
        Description = Description,
        PrincipalId = PrincipalId,
        PrincipalKind = PrincipalKind,
        DeviceId = DeviceId,
        ClientAddress = ClientAddress,
        Scope = Scope,
        SourceSegment = SourceSegment,
        DestinationSegment = DestinationSegment,
        RouteId = RouteId,
        Count = Count,
        Threshold = Threshold,
        Window = Window,
        Response = Response,
        ContainedUntil = ContainedUntil,
        DecisionId = DecisionId,
        TraceId = TraceId,
        PolicyVersion = policyVersion,
    };
}
