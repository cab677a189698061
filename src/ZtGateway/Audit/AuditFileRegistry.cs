namespace ZtGateway.Audit;

/// <summary>
/// The open <c>file:</c> audit sinks of the process, so that one request to reopen (SIGHUP from a logrotate
/// <c>postrotate</c> script) reaches every audit trail still in use: the live one and those a policy reload
/// replaced that in-flight requests may still write to until they are disposed.
/// </summary>
internal sealed class AuditFileRegistry
{
    private readonly Lock _lock = new();
    private readonly HashSet<FileSink> _sinks = [];

    /// <summary>The registry of this process; file sinks join it unless told otherwise.</summary>
    public static AuditFileRegistry Process { get; } = new();

    /// <summary>How many sinks are registered; a disposed sink leaves, so replaced trails are not kept alive.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _sinks.Count;
            }
        }
    }

    public void Add(FileSink sink)
    {
        lock (_lock)
        {
            _sinks.Add(sink);
        }
    }

    public void Remove(FileSink sink)
    {
        lock (_lock)
        {
            _sinks.Remove(sink);
        }
    }

    /// <summary>Reopens the path of every registered sink; returns the names of those that now write to it.</summary>
    public IReadOnlyList<string> ReopenAll(string reason)
    {
        FileSink[] sinks;
        lock (_lock)
        {
            sinks = [.. _sinks];
        }

        // Outside the lock: a reopen opens a file, and a trail being disposed meanwhile must not wait for it.
        var reopened = new List<string>(sinks.Length);
        foreach (var sink in sinks)
        {
            if (sink.Reopen(reason))
            {
                reopened.Add(sink.Name);
            }
        }

        return reopened;
    }
}
