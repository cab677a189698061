using ZtGateway.Audit;
using ZtGateway.Policy.Engine;
using ZtGateway.Runtime;

namespace ZtGateway.Sources.Continuous;

/// <summary>What continuous evaluation says about one request's caller, set on its <see cref="RequestContext"/>.</summary>
/// <param name="Revoked">A revocation covers the token (<c>token-revoked</c>).</param>
/// <param name="StepUpRequired">An assurance-level change covers the token.</param>
/// <param name="PrincipalQuarantined">The principal is quarantined.</param>
/// <param name="DeviceQuarantined">The verified device is quarantined.</param>
internal readonly record struct ContinuousVerdict(bool Revoked, bool StepUpRequired, bool PrincipalQuarantined, bool DeviceQuarantined);

/// <summary>
/// Continuous evaluation for one gateway process: revocations and step-up demands, quarantines, the ids of
/// accepted signals and the detector's baseline, over one state file. Created once at start and kept across
/// policy reloads (which rebuild only the policy state). It is the store its feeds (the signal receiver, the
/// lateral-movement detector, the admin API) write into, and knows none of them. Every change goes through
/// <see cref="Commit"/>: written to the state file, then applied, then audited, in that order, so what was
/// acknowledged survives a restart and replaying the file gives the same tables.
/// </summary>
internal sealed partial class ContinuousEvaluation : IDisposable
{
    private readonly ILivePolicy _context;
    private readonly StateJournal _journal;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _commit = new();
    private readonly HashSet<(string Source, string Destination)> _pairs = [];
    private IStateShare? _share;

    private ContinuousEvaluation(ILivePolicy context, StateJournal journal, TimeProvider time, ILogger logger)
    {
        _context = context;
        _journal = journal;
        _time = time;
        _logger = logger;
    }

    /// <summary>
    /// How long the id (<c>jti</c>) of an accepted signal is remembered after its <c>iat</c>: as long as a SET can be
    /// accepted (5 minutes old, plus at most 5 minutes of clock skew), and a minute more. The signal receiver
    /// accepts no SET older than that, so a replay is refused for as long as it could be accepted.
    /// </summary>
    public static readonly TimeSpan ReplayRetention = TimeSpan.FromMinutes(11);

    /// <summary>Revocations and step-up demands.</summary>
    public RevocationStore Revocations { get; } = new();

    /// <summary>Quarantined principals and devices.</summary>
    public QuarantineStore Quarantines { get; } = new();

    /// <summary>The latest posture assertion pushed for each device.</summary>
    public PushedPostureStore Postures { get; } = new();

    /// <summary>Ids of accepted signals.</summary>
    public ReplayGuard Replay { get; } = new(ReplayRetention);

    /// <summary>
    /// When the detector's learning period began: replayed from the state file, or the time of the first start,
    /// which was then written to it.
    /// </summary>
    public DateTimeOffset LearningSince { get; private set; }

    /// <summary>
    /// The segment pairs the detector had learned, as replayed from the state file at start (a pair may appear
    /// more than once). Pairs learned since are committed as <c>pair</c> records and known to the detector.
    /// </summary>
    public IReadOnlyList<(string Source, string Destination)> LearnedPairs { get; private set; } = [];

    /// <summary>Absolute path of the state file.</summary>
    public string StateFile => _journal.FilePath;

    /// <summary>True when the state file held no record at start (new, or deleted since the last run).</summary>
    public bool StartedEmpty { get; private set; }

    /// <summary>
    /// Opens the state file in <c>gateway.stateDir</c> and replays it: the tables, the ids of accepted signals and
    /// the detector's baseline (<see cref="LearningSince"/>, <see cref="LearnedPairs"/>).
    /// </summary>
    /// <exception cref="IOException">The state folder or file cannot be created, read, locked or written.</exception>
    /// <exception cref="UnauthorizedAccessException">The state folder or file is not accessible.</exception>
    /// <param name="context">The live policy.</param>
    /// <param name="timeProvider">The clock of expiries and changes.</param>
    /// <param name="loggerFactory">Where logs go.</param>
    /// <param name="compactionThreshold">Records beyond which a file that is mostly history is rewritten.</param>
    public static ContinuousEvaluation Open(ILivePolicy context, TimeProvider timeProvider, ILoggerFactory loggerFactory,
        int compactionThreshold = DefaultCompactionThreshold)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        var logger = loggerFactory.CreateLogger("ZtGateway.Continuous");
        var journal = StateJournal.Open(context.Gateway.Gateway.StateDir, logger, out var records);
        var continuous = new ContinuousEvaluation(context, journal, timeProvider, logger);
        try
        {
            var now = timeProvider.GetUtcNow();
            DateTimeOffset? learningSince = null;
            var pairs = new List<(string, string)>();
            foreach (var record in records)
            {
                continuous.Replay.Apply(record, now);
                if (continuous.Revocations.Apply(record) || continuous.Quarantines.Apply(record) || continuous.Postures.Apply(record))
                {
                    continue;
                }

                if (record.Type == JournalRecordTypes.Learning)
                {
                    learningSince ??= record.At;
                }
                else if (record.Type == JournalRecordTypes.Pair)
                {
                    pairs.Add((record.SourceSegment!, record.DestinationSegment!));
                }
            }

            if (learningSince is null)
            {
                learningSince = now;
                journal.Append(new JournalRecord { Type = JournalRecordTypes.Learning, Time = now, At = now });
            }

            continuous.CompactIfWorthIt(records.Count, compactionThreshold, learningSince.Value, pairs, now);

            Log.Replayed(logger, journal.FilePath, records.Count, continuous.Revocations.Revocations.Count, continuous.Quarantines.Active(now).Count);
            continuous.LearningSince = learningSince.Value;
            continuous.StartedEmpty = records.Count == 0;
            continuous.LearnedPairs = pairs;
            continuous._pairs.UnionWith(pairs);
            return continuous;
        }
        catch
        {
            journal.Dispose();
            throw;
        }
    }

    /// <summary>Records beyond which a state file that is mostly history is rewritten at start.</summary>
    public const int DefaultCompactionThreshold = 10_000;

    /// <summary>The per-request check: O(1) lookups on immutable tables, no lock.</summary>
    public ContinuousVerdict Check(Principal? principal, DevicePosture? device)
    {
        if (principal is null)
        {
            return default;
        }

        var revoked = Revocations.IsRevoked(principal);
        var stepUp = Revocations.NeedsStepUp(principal);
        if (Quarantines.IsEmpty)
        {
            return new ContinuousVerdict(revoked, stepUp, PrincipalQuarantined: false, DeviceQuarantined: false);
        }

        var now = _time.GetUtcNow();
        return new ContinuousVerdict(
            revoked,
            stepUp,
            Quarantines.IsQuarantined(QuarantineTargets.Principal, PrincipalIds.Of(principal), now),
            device is not null && Quarantines.IsQuarantined(QuarantineTargets.Device, device.DeviceId, now));
    }

    /// <summary>
    /// Writes a change to the state file, applies it, and audits it. Returns false when the state file could
    /// not be written: the change is then in force until the process stops, and the caller should say so.
    /// </summary>
    public bool Commit(JournalRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var persisted = true;
        bool verdictChanged;

        // One order for the file and the tables, so a restart rebuilds exactly what was in force.
        lock (_commit)
        {
            try
            {
                _journal.Append(record);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ObjectDisposedException)
            {
                persisted = false;
                Log.PersistFailed(_logger, _journal.FilePath, record.Type, ex);
            }

            // Applied even when the disk refused it: tightening must not wait for storage, and a lost
            // release errs on the safe side after a restart.
            // A pushed posture changes no verdict of Check, but what open exchanges of its device were decided on.
            verdictChanged = Revocations.Apply(record) || Quarantines.Apply(record) || Postures.Apply(record);
            if (!verdictChanged && record.Type == JournalRecordTypes.Pair)
            {
                _pairs.Add((record.SourceSegment!, record.DestinationSegment!));
            }
        }

        if (verdictChanged)
        {
            Changed?.Invoke(record);
        }

        // Every change goes to the other gateways too; the share keeps it until the shared store has it.
        _share?.Publish(record);

        if (AuditedAs(record.Type) is { } change)
        {
            try
            {
                _context.Audit.RecordStateChange(ToAuditEvent(record, change, Guid.CreateVersion7(record.Time).ToString()));
            }
            catch (ObjectDisposedException)
            {
                // The policy state was swapped out mid-write; the state file still has the change.
            }

            Log.Changed(_logger, record.Type, record.Target ?? "subject", record.Id ?? record.Subject ?? string.Empty, record.Origin ?? record.Reason, record.Actor);
        }

        return persisted;
    }

    /// <summary>
    /// Shares every change from now on through <paramref name="share"/> (the other gateways of the deployment), and
    /// takes theirs through <see cref="ApplyRemote"/>.
    /// </summary>
    public void Share(IStateShare share)
    {
        ArgumentNullException.ThrowIfNull(share);
        _share = share;
    }

    /// <summary>
    /// Applies a change accepted by another gateway: written to this gateway's state file (which mirrors the shared
    /// state, so it is in force after a restart even without the shared store) and applied. It was audited where it
    /// was accepted, so it is not audited again. The record must have passed <see cref="JournalRecordCheck"/>.
    /// </summary>
    public void ApplyRemote(JournalRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (ApplyRemoteLocked(record))
        {
            Changed?.Invoke(record);
        }

        RemoteApplied?.Invoke(record);
    }

    /// <summary>Raised after a change of another gateway was applied (for the detector's baseline: learned pairs, the learning start).</summary>
    public event Action<JournalRecord>? RemoteApplied;

    /// <summary>
    /// Raised after a change to revocations, step-up demands, quarantines or pushed postures was applied, whether it was committed here
    /// (<see cref="Commit"/>) or by another gateway (<see cref="ApplyRemote"/>): what <see cref="Check"/> answers may have
    /// changed. Raised on the thread that applied the change, outside the commit lock; a handler must return quickly and
    /// must not throw.
    /// </summary>
    public event Action<JournalRecord>? Changed;

    // True when the record changed revocations, step-up demands or quarantines.
    private bool ApplyRemoteLocked(JournalRecord record)
    {
        lock (_commit)
        {
            try
            {
                _journal.Append(record);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ObjectDisposedException)
            {
                Log.PersistFailed(_logger, _journal.FilePath, record.Type, ex);
            }

            Replay.Apply(record, _time.GetUtcNow());
            if (Revocations.Apply(record) || Quarantines.Apply(record) || Postures.Apply(record))
            {
                return true;
            }

            if (record.Type == JournalRecordTypes.Pair)
            {
                _pairs.Add((record.SourceSegment!, record.DestinationSegment!));
            }
            else if (record.Type == JournalRecordTypes.Learning && record.At < LearningSince)
            {
                LearningSince = record.At.Value;
            }

            return false;
        }
    }

    /// <summary>
    /// The records that rebuild everything in force at <paramref name="now"/>: the detector's baseline, revocations and
    /// step-up demands, quarantines and recent releases, and the ids of signals still remembered. Replaying them in any
    /// order, on any gateway, gives the same tables.
    /// </summary>
    public IReadOnlyList<JournalRecord> LiveRecords(DateTimeOffset now)
    {
        lock (_commit)
        {
            return
            [
                new JournalRecord { Type = JournalRecordTypes.Learning, Time = now, At = LearningSince },
                .. _pairs.Select(p => new JournalRecord { Type = JournalRecordTypes.Pair, Time = now, SourceSegment = p.Source, DestinationSegment = p.Destination }),
                .. Revocations.Live(now),
                .. Quarantines.Live(now, Replay.Retention),
                .. Postures.Live(now),
                .. Replay.Live(now),
            ];
        }
    }

    /// <summary>
    /// Claims the id of an accepted signal here and, when the state is shared, for the whole deployment: false when
    /// this gateway or another one already accepted it. While the shared store is unreachable the claim is local.
    /// </summary>
    public async ValueTask<bool> TryClaimSignalAsync(string issuer, string id, DateTimeOffset issuedAt, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        if (!Replay.TryClaim(issuer, id, issuedAt, now))
        {
            return false;
        }

        bool? shared;
        try
        {
            shared = _share is { } share ? await share.TryClaimAsync(issuer, id, issuedAt + Replay.Retention - now, cancellationToken) : null;
        }
        catch
        {
            // The caller gave up (request aborted): nothing was applied, so the transmitter may deliver it again.
            Replay.Unclaim(issuer, id);
            throw;
        }

        if (shared == false)
        {
            Replay.Unclaim(issuer, id);
            return false;
        }

        return true;
    }

    // The changes to what is in force are audited; the detector's baseline and the ids of signals that changed nothing are not.
    private static StateChangeKind? AuditedAs(string type) => type switch
    {
        JournalRecordTypes.Revoke or JournalRecordTypes.RevokeSession => StateChangeKind.Revoke,
        JournalRecordTypes.StepUp => StateChangeKind.StepUp,
        JournalRecordTypes.Hold => StateChangeKind.Hold,
        JournalRecordTypes.Release => StateChangeKind.Release,
        _ => null,
    };

    private static StateChangeEvent ToAuditEvent(JournalRecord record, StateChangeKind change, string changeId) => new()
    {
        ChangeId = changeId,
        Time = record.Time,
        Change = change,
        Target = record.Target,
        TargetId = record.Id,
        Origin = record.Origin,
        Issuer = record.Issuer,
        Subject = record.Subject,
        Reason = record.Reason,
        Actor = record.Actor,
        TokenId = record.TokenId,
        At = record.At,
        Until = record.Until,
    };

    // Every accepted signal adds a line; rewriting the file with what is still in force keeps the start fast.
    // A failed rewrite leaves the old file in use, which replays to the same tables.
    private void CompactIfWorthIt(int lines, int threshold, DateTimeOffset learningSince, List<(string Source, string Destination)> pairs, DateTimeOffset now)
    {
        if (lines <= threshold)
        {
            return;
        }

        List<JournalRecord> live =
        [
            new JournalRecord { Type = JournalRecordTypes.Learning, Time = now, At = learningSince },
            .. pairs.Distinct().Select(p => new JournalRecord { Type = JournalRecordTypes.Pair, Time = now, SourceSegment = p.Source, DestinationSegment = p.Destination }),
            .. Revocations.Live(now),
            .. Quarantines.Live(now, Replay.Retention),
            .. Postures.Live(now),
            .. Replay.Live(now),
        ];
        if (live.Count * 2 > lines)
        {
            return;
        }

        try
        {
            _journal.Rewrite(live);
            Log.Compacted(_logger, _journal.FilePath, lines, live.Count);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Log.CompactionFailed(_logger, _journal.FilePath, ex);
        }
    }

    public void Dispose() => _journal.Dispose();

    private static partial class Log
    {
        [LoggerMessage(EventId = 610, Level = LogLevel.Information,
            Message = "State file {Path}: {Records} records replayed; {Revocations} subjects revoked, {Quarantines} quarantined")]
        public static partial void Replayed(ILogger logger, string path, int records, int revocations, int quarantines);

        [LoggerMessage(EventId = 611, Level = LogLevel.Critical,
            Message = "State file {Path} could not record a {Change}; it is in force now but will not survive a restart")]
        public static partial void PersistFailed(ILogger logger, string path, string change, Exception exception);

        [LoggerMessage(EventId = 613, Level = LogLevel.Information, Message = "State file {Path} compacted from {Lines} lines to {Live}")]
        public static partial void Compacted(ILogger logger, string path, int lines, int live);

        [LoggerMessage(EventId = 614, Level = LogLevel.Warning, Message = "State file {Path} could not be compacted; it stays as it is")]
        public static partial void CompactionFailed(ILogger logger, string path, Exception exception);

        [LoggerMessage(EventId = 612, Level = LogLevel.Warning, Message = "State change {Change} {Target} {Id} ({Why}) by {Actor}")]
        public static partial void Changed(ILogger logger, string change, string target, string id, string? why, string? actor);
    }
}
