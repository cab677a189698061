namespace ZtGateway.Sources.Continuous;

/// <summary>
/// Remembers the <c>jti</c> of every accepted Security Event Token per transmitter for as long as the SET
/// itself would be accepted, so the same SET is applied at most once. Signals that changed state carry
/// their <c>jti</c> into the state file, so the memory survives a restart.
/// </summary>
internal sealed class ReplayGuard
{
    private readonly Lock _lock = new();
    private readonly Dictionary<(string Issuer, string Id), DateTimeOffset> _seen = [];
    private DateTimeOffset _nextSweep = DateTimeOffset.MinValue;

    /// <param name="retention">How long after its <c>iat</c> a SET id is kept: at least as long as the SET is accepted.</param>
    public ReplayGuard(TimeSpan retention) => Retention = retention;

    public TimeSpan Retention { get; }

    /// <summary>Claims <paramref name="id"/> of <paramref name="issuer"/>; false when it was seen already.</summary>
    public bool TryClaim(string issuer, string id, DateTimeOffset issuedAt, DateTimeOffset now)
    {
        lock (_lock)
        {
            Sweep(now);
            return _seen.TryAdd((issuer, id), issuedAt + Retention);
        }
    }

    /// <summary>Forgets a claim whose SET could not be applied, so the transmitter may deliver it again.</summary>
    public void Unclaim(string issuer, string id)
    {
        lock (_lock)
        {
            _seen.Remove((issuer, id));
        }
    }

    /// <summary>Learns the id of a signal record replayed from the state file; false when the record carries none.</summary>
    public bool Apply(JournalRecord record, DateTimeOffset now)
    {
        if (record.TokenId is not { } id || record.Actor is not { } issuer)
        {
            return false;
        }

        var forgetAt = (record.TokenIssuedAt ?? record.Time) + Retention;
        if (forgetAt > now)
        {
            lock (_lock)
            {
                _seen[(issuer, id)] = forgetAt;
            }
        }

        return record.Type == JournalRecordTypes.Seen;
    }

    /// <summary>The ids still remembered at <paramref name="now"/>, as <c>seen</c> records (for compacting the state file).</summary>
    public IReadOnlyList<JournalRecord> Live(DateTimeOffset now)
    {
        lock (_lock)
        {
            return
            [
                .. _seen.Where(p => p.Value > now).Select(p => new JournalRecord
                {
                    Type = JournalRecordTypes.Seen, Time = now, Actor = p.Key.Issuer, TokenId = p.Key.Id, TokenIssuedAt = p.Value - Retention,
                }),
            ];
        }
    }

    private void Sweep(DateTimeOffset now)
    {
        if (now < _nextSweep)
        {
            return;
        }

        _nextSweep = now + Retention;
        foreach (var (key, forgetAt) in _seen.ToList())
        {
            if (forgetAt <= now)
            {
                _seen.Remove(key);
            }
        }
    }
}
