namespace ZtGateway.Sources.Continuous;

/// <summary>What a quarantine applies to.</summary>
internal static class QuarantineTargets
{
    /// <summary>A caller: a user's <c>sub</c>, or a workload's id (see <see cref="PrincipalIds.Of"/>).</summary>
    public const string Principal = "principal";

    /// <summary>A device: the <c>sub</c> of its posture assertions.</summary>
    public const string Device = "device";
}

/// <summary>Who placed a quarantine hold.</summary>
internal static class QuarantineOrigins
{
    /// <summary>An operator through the admin API.</summary>
    public const string Admin = "admin";

    /// <summary>A CAEP <c>device-compliance-change</c> to <c>not-compliant</c>; lifted by a later <c>compliant</c>.</summary>
    public const string Signal = "signal";

    /// <summary>The lateral-movement detector in <c>contain</c> mode.</summary>
    public const string Detection = "detection";
}

/// <summary>One hold on a principal or device. A target is quarantined while it has one unexpired hold.</summary>
/// <param name="Origin">One of <see cref="QuarantineOrigins"/>; at most one hold per origin.</param>
/// <param name="Since">When the hold began (for a signal: the event's time).</param>
/// <param name="Until">When it lapses by itself; null lasts until released.</param>
/// <param name="Reason">Why, for the admin API and logs.</param>
/// <param name="Actor">Who placed it.</param>
internal sealed record QuarantineHold(string Origin, DateTimeOffset Since, DateTimeOffset? Until, string Reason, string Actor)
{
    public bool ActiveAt(DateTimeOffset now) => Until is not { } until || until > now;
}

/// <summary>A quarantined principal or device with its active holds.</summary>
internal sealed record QuarantineEntry(string Target, string Id, IReadOnlyList<QuarantineHold> Holds);

/// <summary>
/// Quarantined principals and devices. A target may hold several holds (an operator's, a signal's, the
/// detector's), each lifted on its own terms: a <c>compliant</c> signal lifts only the signal's hold, an
/// operator's release lifts all. Reads take one immutable snapshot and never lock; writes (rare) copy.
/// </summary>
internal sealed class QuarantineStore
{
    private readonly Lock _write = new();

    // The time of the last compliance event applied per device, kept after a release, so that an older
    // event delivered late cannot undo a newer one.
    private readonly Dictionary<QuarantineKey, DateTimeOffset> _signalClock = [];

    // The latest release per target and origin ("*" for a release of every hold), so that a hold that began before
    // it, delivered late (from another gateway, or republished after an outage), does not come back. The signal
    // origin is ordered by _signalClock instead.
    private readonly Dictionary<(QuarantineKey Key, string Origin), DateTimeOffset> _released = [];
    private volatile Dictionary<QuarantineKey, QuarantineHold[]> _holds = [];

    /// <summary>True when nothing is quarantined (expired holds may still count until the next change).</summary>
    public bool IsEmpty => _holds.Count == 0;

    /// <summary>True when <paramref name="id"/> of <paramref name="target"/> has an unexpired hold at <paramref name="now"/>.</summary>
    public bool IsQuarantined(string target, string id, DateTimeOffset now)
    {
        var holds = _holds;
        if (holds.Count == 0 || !holds.TryGetValue(new QuarantineKey(target, id), out var list))
        {
            return false;
        }

        foreach (var hold in list)
        {
            if (hold.ActiveAt(now))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The active hold of one origin, if any.</summary>
    public QuarantineHold? Find(string target, string id, string origin, DateTimeOffset now) =>
        _holds.TryGetValue(new QuarantineKey(target, id), out var list)
            ? list.FirstOrDefault(h => h.Origin == origin && h.ActiveAt(now))
            : null;

    /// <summary>Every target with an unexpired hold at <paramref name="now"/>, ordered by target then id.</summary>
    public IReadOnlyList<QuarantineEntry> Active(DateTimeOffset now) =>
    [
        .. _holds
            .Select(p => new QuarantineEntry(p.Key.Target, p.Key.Id, [.. p.Value.Where(h => h.ActiveAt(now))]))
            .Where(e => e.Holds.Count > 0)
            .OrderBy(e => e.Target, StringComparer.Ordinal)
            .ThenBy(e => e.Id, StringComparer.Ordinal),
    ];

    /// <summary>How long a release is remembered, so that an older hold delivered late stays lifted.</summary>
    public static readonly TimeSpan ReleaseRetention = TimeSpan.FromDays(1);

    /// <summary>
    /// The records that rebuild this table at <paramref name="now"/> (for compacting the state file, and for
    /// republishing to the shared state): every active hold, the compliance-event times that still matter (within
    /// <paramref name="ordering"/>), and the releases of the last <see cref="ReleaseRetention"/>.
    /// </summary>
    public IReadOnlyList<JournalRecord> Live(DateTimeOffset now, TimeSpan ordering)
    {
        lock (_write)
        {
            var records = new List<JournalRecord>();
            foreach (var (key, holds) in _holds)
            {
                foreach (var hold in holds.Where(h => h.ActiveAt(now)))
                {
                    records.Add(new JournalRecord
                    {
                        Type = JournalRecordTypes.Hold, Time = now, Target = key.Target, Id = key.Id, Origin = hold.Origin, At = hold.Since,
                        Until = hold.Until, Reason = hold.Reason, Actor = hold.Actor,
                    });
                }
            }

            // Released devices keep their last event time only while an older event could still be accepted.
            foreach (var (key, at) in _signalClock)
            {
                var held = _holds.TryGetValue(key, out var holds) && holds.Any(h => h.Origin == QuarantineOrigins.Signal && h.ActiveAt(now));
                if (!held && at > now - ordering)
                {
                    records.Add(new JournalRecord
                    {
                        Type = JournalRecordTypes.Release, Time = now, Target = key.Target, Id = key.Id, Origin = QuarantineOrigins.Signal, At = at,
                    });
                }
            }

            foreach (var ((key, origin), at) in _released)
            {
                if (at > now - ReleaseRetention)
                {
                    records.Add(new JournalRecord
                    {
                        Type = JournalRecordTypes.Release, Time = now, Target = key.Target, Id = key.Id, Origin = origin == AnyOrigin ? null : origin, At = at,
                    });
                }
            }

            return records;
        }
    }

    private const string AnyOrigin = "*";

    /// <summary>Applies a <c>hold</c> or <c>release</c> record; false for any other record.</summary>
    public bool Apply(JournalRecord record)
    {
        if (record.Type is not (JournalRecordTypes.Hold or JournalRecordTypes.Release))
        {
            return false;
        }

        var key = new QuarantineKey(record.Target!, record.Id!);
        var at = record.At ?? record.Time;
        lock (_write)
        {
            if (record.Origin == QuarantineOrigins.Signal)
            {
                if (_signalClock.TryGetValue(key, out var last) && at < last)
                {
                    return true;
                }

                _signalClock[key] = at;
            }

            var current = _holds.TryGetValue(key, out var list) ? list : [];

            // Lapsed holds are dropped whenever the target changes, so the table does not grow without end.
            var kept = current.Where(h => h.ActiveAt(record.Time)).ToList();
            if (record.Type == JournalRecordTypes.Hold)
            {
                // A release that came later than the hold began keeps it lifted, whatever order they arrive in.
                if (record.Origin != QuarantineOrigins.Signal
                    && ((_released.TryGetValue((key, record.Origin!), out var released) && at < released)
                        || (_released.TryGetValue((key, AnyOrigin), out var releasedAll) && at < releasedAll)))
                {
                    return true;
                }

                var previous = kept.FindIndex(h => h.Origin == record.Origin);

                // Signals may arrive out of order: an older event does not override a newer one.
                if (previous >= 0 && kept[previous].Since > at)
                {
                    return true;
                }

                var hold = new QuarantineHold(record.Origin!, at, record.Until, record.Reason ?? record.Origin!, record.Actor ?? string.Empty);
                if (previous >= 0)
                {
                    kept[previous] = hold;
                }
                else
                {
                    kept.Add(hold);
                }
            }
            else
            {
                kept.RemoveAll(h => (record.Origin is null || h.Origin == record.Origin) && h.Since <= at);
                if (record.Origin != QuarantineOrigins.Signal)
                {
                    if (_released.Count >= 4096)
                    {
                        foreach (var stale in _released.Where(p => p.Value <= record.Time - ReleaseRetention).Select(p => p.Key).ToList())
                        {
                            _released.Remove(stale);
                        }
                    }

                    var slot = (key, record.Origin ?? AnyOrigin);
                    if (!_released.TryGetValue(slot, out var last) || at > last)
                    {
                        _released[slot] = at;
                    }
                }
            }

            var copy = new Dictionary<QuarantineKey, QuarantineHold[]>(_holds);
            if (kept.Count == 0)
            {
                copy.Remove(key);
            }
            else
            {
                copy[key] = [.. kept];
            }

            _holds = copy;
        }

        return true;
    }

    private readonly record struct QuarantineKey(string Target, string Id);
}
