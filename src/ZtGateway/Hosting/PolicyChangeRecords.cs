using ZtGateway.Audit;
using ZtGateway.Policy.Analysis;
using ZtGateway.Policy.Analysis.Rendering;
using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Engine;
using ZtGateway.Policy.Loading;

namespace ZtGateway.Hosting;

/// <summary>
/// The audit records of the policy put in force at start and of each reload, applied or refused (docs/design.md
/// section 6.2): what was read, and for an applied reload what it opened and closed, by the analysis of <c>ztgw diff</c>.
/// </summary>
internal static partial class PolicyChangeRecords
{
    /// <summary>Why a reload was refused: the files are not a valid policy.</summary>
    public const string PolicyInvalid = "policy-invalid";

    /// <summary>Why a reload was refused: it moves or removes a listener, which only a restart does.</summary>
    public const string RestartRequired = "restart-required";

    /// <summary>The policy a start put in force.</summary>
    public static PolicyChangeEvent Started(PolicyLoadResult loaded, TimeProvider time)
    {
        var now = time.GetUtcNow();
        return new PolicyChangeEvent
        {
            ChangeId = Guid.CreateVersion7(now).ToString(),
            Time = now,
            Change = PolicyChangeKind.Start,
            NewVersion = loaded.Policy!.Version,
            Files = Files(loaded),
        };
    }

    /// <summary>
    /// A reload that replaced <paramref name="before"/> with the policy of <paramref name="loaded"/>. The two are compared
    /// as <c>ztgw diff</c> compares them, both as of the gateway's clock; a comparison that fails is logged and leaves the
    /// summary out, never the record.
    /// </summary>
    public static PolicyChangeEvent Applied(PolicySet before, PolicyLoadResult loaded, TimeProvider time, ILogger logger)
    {
        var after = loaded.Policy!;
        var now = time.GetUtcNow();
        PolicyChangeSummary? summary = null;
        string? error = null;
        try
        {
            var clock = new PinnedTimeProvider(now);
            summary = Summarize(PolicyDiff.Compare(new PolicyEngine(before, clock), new PolicyEngine(after, clock)));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.CompareFailed(logger, before.Version, after.Version, ex);
            error = $"{ex.GetType().Name}: {ex.Message}";
        }

        return new PolicyChangeEvent
        {
            ChangeId = Guid.CreateVersion7(now).ToString(),
            Time = now,
            Change = PolicyChangeKind.Reload,
            OldVersion = before.Version,
            NewVersion = after.Version,
            Files = Files(loaded),
            Summary = summary,
            SummaryError = error,
        };
    }

    /// <summary>A reload that was refused while <paramref name="inForce"/> keeps serving.</summary>
    public static PolicyChangeEvent Refused(string inForce, PolicyLoadResult loaded, string refusal, TimeProvider time)
    {
        var now = time.GetUtcNow();

        // Errors first: they are why the reload was refused, and the message repeats the first few.
        var diagnostics = loaded.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error)
            .Concat(loaded.Diagnostics.Where(d => d.Severity != DiagnosticSeverity.Error))
            .Select(d => d.Format());
        return new PolicyChangeEvent
        {
            ChangeId = Guid.CreateVersion7(now).ToString(),
            Time = now,
            Change = PolicyChangeKind.Refused,
            OldVersion = inForce,
            NewVersion = loaded.Version,
            Files = Files(loaded),
            Refusal = refusal,
            Diagnostics = [.. diagnostics],
        };
    }

    /// <summary>The counts and lines of a diff, as <c>ztgw diff</c> gives them.</summary>
    public static PolicyChangeSummary Summarize(PolicyDiffReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        int Count(AccessChangeKind kind) => report.Changes.Count(c => c.Kind == kind);
        return new PolicyChangeSummary
        {
            Opened = Count(AccessChangeKind.Opened),
            Weakened = Count(AccessChangeKind.Weakened),
            Closed = Count(AccessChangeKind.Closed),
            Tightened = Count(AccessChangeKind.Tightened),
            Changes = [.. report.Changes.Select(ReportRenderer.Line)],
        };
    }

    private static PolicyFileRecord[] Files(PolicyLoadResult loaded) => [.. loaded.Files.Select(f => new PolicyFileRecord(f.Path, f.Sha256))];

    private static partial class Log
    {
        [LoggerMessage(EventId = 112, Level = LogLevel.Error,
            Message = "Policy {NewVersion} is in force, but comparing it with {OldVersion} failed; its audit line has no summary of what it opened and closed")]
        public static partial void CompareFailed(ILogger logger, string oldVersion, string newVersion, Exception exception);
    }
}
