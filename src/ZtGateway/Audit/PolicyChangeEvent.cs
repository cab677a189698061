namespace ZtGateway.Audit;

/// <summary>What happened to the policy.</summary>
internal enum PolicyChangeKind
{
    /// <summary><c>policy-start</c>: the policy a gateway start put in force.</summary>
    Start,

    /// <summary><c>policy-reload</c>: a reload put a new policy in force.</summary>
    Reload,

    /// <summary><c>policy-refused</c>: a reload was refused; the policy in force keeps serving.</summary>
    Refused,
}

/// <summary>Codes of <see cref="PolicyChangeKind"/>, as audit lines give them.</summary>
internal static class PolicyChangeKinds
{
    private static readonly string[] Codes = ["policy-start", "policy-reload", "policy-refused"];

    /// <summary>The code, e.g. <c>policy-reload</c>.</summary>
    public static string ToCode(this PolicyChangeKind kind) => Codes[(int)kind];
}

/// <summary>One policy file as it was read: its path and the SHA-256 (lowercase hex) of its bytes.</summary>
internal sealed record PolicyFileRecord(string Path, string Sha256);

/// <summary>What an applied change opened and closed: the counts and lines of <c>ztgw diff</c>.</summary>
internal sealed record PolicyChangeSummary
{
    public required int Opened { get; init; }

    public required int Weakened { get; init; }

    public required int Closed { get; init; }

    public required int Tightened { get; init; }

    /// <summary>Every change, one line each (<c>finance -> hr: opens GET /payroll/{**rest} (route ...) for group ...</c>).</summary>
    public required IReadOnlyList<string> Changes { get; init; }

    /// <summary>True when the change opens an access path or weakens a requirement.</summary>
    public bool Opens => Opened + Weakened > 0;
}

/// <summary>
/// The policy a start put in force, or one reload of it, applied or refused, as the audit trail records it: an OCSF
/// Entity Management (class 3004) line on the policy (docs/design.md section 6.2). Plain data: versions, paths, digests,
/// counts and lines of text.
/// </summary>
internal sealed record PolicyChangeEvent
{
    /// <summary>Unique id of the change.</summary>
    public required string ChangeId { get; init; }

    /// <summary>When the gateway put the policy in force, or refused it.</summary>
    public required DateTimeOffset Time { get; init; }

    public required PolicyChangeKind Change { get; init; }

    /// <summary>Reloads: the version in force before; for a refused reload it is still in force. Absent at start.</summary>
    public string? OldVersion { get; init; }

    /// <summary>
    /// The version put in force; for a refused reload, the version the files read would have (absent when gateway.yaml
    /// could not be read).
    /// </summary>
    public string? NewVersion { get; init; }

    /// <summary>gateway.yaml and each segment file, as read.</summary>
    public IReadOnlyList<PolicyFileRecord> Files { get; init; } = [];

    /// <summary>An applied reload: what it opened and closed; absent when the comparison failed.</summary>
    public PolicyChangeSummary? Summary { get; init; }

    /// <summary>An applied reload whose comparison failed: why there is no summary.</summary>
    public string? SummaryError { get; init; }

    /// <summary>A refused reload: why, <c>policy-invalid</c> or <c>restart-required</c>.</summary>
    public string? Refusal { get; init; }

    /// <summary>A refused reload: the diagnostics, formatted as <c>ztgw validate</c> prints them.</summary>
    public IReadOnlyList<string> Diagnostics { get; init; } = [];
}
