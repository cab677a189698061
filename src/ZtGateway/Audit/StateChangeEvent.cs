namespace ZtGateway.Audit;

/// <summary>What a change of continuous evaluation did.</summary>
internal enum StateChangeKind
{
    /// <summary><c>revoke</c>: a subject's tokens issued at or before <see cref="StateChangeEvent.At"/> are refused.</summary>
    Revoke,

    /// <summary><c>step-up</c>: a subject's tokens issued at or before <see cref="StateChangeEvent.At"/> must step up.</summary>
    StepUp,

    /// <summary><c>hold</c>: a principal or device is quarantined.</summary>
    Hold,

    /// <summary><c>release</c>: holds on a principal or device are lifted.</summary>
    Release,
}

/// <summary>Codes of <see cref="StateChangeKind"/>, as audit lines give them.</summary>
internal static class StateChangeKinds
{
    private static readonly string[] Codes = ["revoke", "step-up", "hold", "release"];

    /// <summary>The code, e.g. <c>step-up</c>.</summary>
    public static string ToCode(this StateChangeKind kind) => Codes[(int)kind];
}

/// <summary>
/// One change of revocations, step-up demands or quarantines (by a signal, an operator or the detector), as the
/// audit trail records it: an OCSF Entity Management (class 3004) line. Which fields are set depends on
/// <see cref="Change"/>; those that are not are left out of the line.
/// </summary>
internal sealed record StateChangeEvent
{
    /// <summary>Unique id of the change.</summary>
    public required string ChangeId { get; init; }

    /// <summary>When the gateway made the change.</summary>
    public required DateTimeOffset Time { get; init; }

    public required StateChangeKind Change { get; init; }

    /// <summary>Hold and release: <c>principal</c> or <c>device</c>.</summary>
    public string? Target { get; init; }

    /// <summary>Hold and release: the principal id or device id.</summary>
    public string? TargetId { get; init; }

    /// <summary>Hold and release: who placed the hold (<c>admin</c>, <c>signal</c>, <c>detection</c>); a release without one lifts every hold.</summary>
    public string? Origin { get; init; }

    /// <summary>Revocation and step-up: the token issuer (<c>iss</c>) of the subject.</summary>
    public string? Issuer { get; init; }

    /// <summary>Revocation and step-up: the subject (<c>sub</c>).</summary>
    public string? Subject { get; init; }

    /// <summary>Why: a CAEP event name, a detection kind, or the operator's words.</summary>
    public string? Reason { get; init; }

    /// <summary>Who: the transmitter's issuer, the admin's subject, or the detector.</summary>
    public string? Actor { get; init; }

    /// <summary>For changes made by a signal: the SET's <c>jti</c>.</summary>
    public string? TokenId { get; init; }

    /// <summary>
    /// Revocation and step-up: tokens issued at or before this instant are affected. Hold and release: the instant
    /// of the event that caused them.
    /// </summary>
    public DateTimeOffset? At { get; init; }

    /// <summary>Hold: when it lapses by itself; absent for a hold that lasts until released.</summary>
    public DateTimeOffset? Until { get; init; }
}
