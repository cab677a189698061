using ZtGateway.Policy.Engine;

namespace ZtGateway.Sources.Continuous;

/// <summary>
/// Revocations and step-up demands by subject, from CAEP signals: a token of (<c>iss</c>, <c>sub</c>) issued
/// at or before the instant of the event is refused (<c>token-revoked</c>) or must step up. A token without
/// <c>iat</c> counts as issued before. Reads take one immutable snapshot and never lock; writes (rare) copy.
/// </summary>
internal sealed class RevocationStore
{
    private readonly Lock _write = new();
    private volatile Tables _tables = Tables.Empty;

    /// <summary>How long a session revocation is kept: longer than any browser session (24 hours) lasts.</summary>
    public static readonly TimeSpan SessionRetention = TimeSpan.FromHours(48);

    /// <summary>
    /// True when a revocation covers this principal's token: one of its subject, or one of the provider session it was
    /// issued in (<c>sid</c>: a back-channel logout, a gateway sign-out).
    /// </summary>
    public bool IsRevoked(Principal principal)
    {
        var tables = _tables;
        return Covers(tables.Revoked, principal)
            || (principal.SessionId is { } sid && tables.Sessions.Count > 0 && Covers(tables.Sessions, new SubjectKey(principal.Issuer, sid), principal));
    }

    /// <summary>True when an assurance-level change covers this principal's token.</summary>
    public bool NeedsStepUp(Principal principal) => Covers(_tables.StepUp, principal);

    /// <summary>The provider sessions (<c>iss</c>, <c>sid</c>) revoked, for the admin API.</summary>
    public IReadOnlyList<(SubjectKey Session, DateTimeOffset Before)> SessionRevocations => [.. _tables.Sessions.Select(p => (p.Key, p.Value))];

    /// <summary>The revocations in force, for the admin API.</summary>
    public IReadOnlyList<(SubjectKey Subject, DateTimeOffset Before)> Revocations => [.. _tables.Revoked.Select(p => (p.Key, p.Value))];

    /// <summary>The step-up demands in force, for the admin API.</summary>
    public IReadOnlyList<(SubjectKey Subject, DateTimeOffset Before)> StepUps => [.. _tables.StepUp.Select(p => (p.Key, p.Value))];

    /// <summary>The records that rebuild these tables (for compacting the state file): one per subject and kind.</summary>
    public IReadOnlyList<JournalRecord> Live(DateTimeOffset now)
    {
        var tables = _tables;
        return
        [
            .. tables.Revoked.Select(p => Record(JournalRecordTypes.Revoke, p.Key, p.Value, now)),
            .. tables.StepUp.Select(p => Record(JournalRecordTypes.StepUp, p.Key, p.Value, now)),
            .. tables.Sessions.Where(p => p.Value + SessionRetention > now).Select(p => new JournalRecord
            {
                Type = JournalRecordTypes.RevokeSession, Time = now, Issuer = p.Key.Issuer, Target = JournalRecordTypes.SessionTarget, Id = p.Key.Subject,
                At = p.Value,
            }),
        ];

        static JournalRecord Record(string type, SubjectKey key, DateTimeOffset at, DateTimeOffset now) =>
            new() { Type = type, Time = now, Issuer = key.Issuer, Subject = key.Subject, At = at };
    }

    /// <summary>Applies a <c>revoke</c>, <c>revoke-session</c> or <c>step-up</c> record; false for any other record.</summary>
    public bool Apply(JournalRecord record)
    {
        if (record.Type == JournalRecordTypes.RevokeSession)
        {
            ApplySession(new SubjectKey(record.Issuer!, record.Id!), record.At!.Value);
            return true;
        }

        var revoke = record.Type == JournalRecordTypes.Revoke;
        if (!revoke && record.Type != JournalRecordTypes.StepUp)
        {
            return false;
        }

        var key = new SubjectKey(record.Issuer!, record.Subject!);
        var at = record.At!.Value;
        lock (_write)
        {
            var tables = _tables;
            var target = revoke ? tables.Revoked : tables.StepUp;

            // A later event covers everything an earlier one did; an earlier one arriving late changes nothing.
            if (target.TryGetValue(key, out var existing) && existing >= at)
            {
                return true;
            }

            var copy = new Dictionary<SubjectKey, DateTimeOffset>(target) { [key] = at };
            _tables = revoke ? tables with { Revoked = copy } : tables with { StepUp = copy };
        }

        return true;
    }

    private void ApplySession(SubjectKey key, DateTimeOffset at)
    {
        lock (_write)
        {
            var tables = _tables;
            if (tables.Sessions.TryGetValue(key, out var existing) && existing >= at)
            {
                return;
            }

            _tables = tables with { Sessions = new Dictionary<SubjectKey, DateTimeOffset>(tables.Sessions) { [key] = at } };
        }
    }

    private static bool Covers(Dictionary<SubjectKey, DateTimeOffset> table, Principal principal) =>
        Covers(table, new SubjectKey(principal.Issuer, principal.Subject), principal);

    private static bool Covers(Dictionary<SubjectKey, DateTimeOffset> table, SubjectKey key, Principal principal)
    {
        if (table.Count == 0 || !table.TryGetValue(key, out var before))
        {
            return false;
        }

        // Both sides are whole seconds from the wire: a token minted in the same second as the event is not trusted.
        return principal.IssuedAt is not { } issuedAt || issuedAt <= before;
    }

    // Sessions: keyed by (iss, sid); the Subject member holds the sid.
    private sealed record Tables(Dictionary<SubjectKey, DateTimeOffset> Revoked, Dictionary<SubjectKey, DateTimeOffset> StepUp,
        Dictionary<SubjectKey, DateTimeOffset> Sessions)
    {
        public static readonly Tables Empty = new([], [], []);
    }
}

/// <summary>A token subject: its issuer's <c>iss</c> and its <c>sub</c>, compared ordinally.</summary>
internal readonly record struct SubjectKey(string Issuer, string Subject);
