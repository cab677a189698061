using System.Collections.Concurrent;
using System.Net;
using ZtGateway.Audit;

namespace ZtGateway.Enforcement.Refusals;

/// <summary>
/// Gathers the requests answered 429 <c>rate-limited</c> into windows, one per source, segment and second, and
/// writes each window as one aggregated audit line (<see cref="AuditTrail.RecordRateLimited"/>) when its second is
/// over: a flood cannot fill the disk, yet every refused request is counted. Each window has one decision id, given
/// to every answer of the window, so the id a client saw is always in the audit.
/// </summary>
/// <remarks>
/// A timer writes the windows whose second has passed; <see cref="Dispose"/> writes the rest, so the last window is
/// never lost. At most <see cref="RefusalLimiterOptions.MaxOpenWindows"/> windows are open: past that, a request of
/// a further source is written at once as a window of its own.
/// </remarks>
internal sealed class RateLimitedWindows : IDisposable
{
    private readonly ConcurrentDictionary<WindowKey, Window> _open = new();
    private readonly AuditTrail _audit;
    private readonly string _policyVersion;
    private readonly int _capacity;
    private readonly ITimer _timer;
    private readonly RateLimitTally? _tally;
    private volatile bool _disposed;

    /// <summary>Windows written to <paramref name="audit"/>; <paramref name="tally"/>, when given, counts open ones where a crash cannot lose them.</summary>
    public RateLimitedWindows(AuditTrail audit, string policyVersion, TimeProvider timeProvider, int capacity, TimeSpan flushInterval,
        RateLimitTally? tally = null)
    {
        ArgumentNullException.ThrowIfNull(audit);
        ArgumentNullException.ThrowIfNull(policyVersion);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _audit = audit;
        _policyVersion = policyVersion;
        _capacity = capacity;
        _tally = tally;
        Time = timeProvider;
        _timer = timeProvider.CreateTimer(static s => ((RateLimitedWindows)s!).FlushPast(), this, flushInterval, flushInterval);
    }

    public TimeProvider Time { get; }

    /// <summary>Windows open now.</summary>
    public int OpenCount => _open.Count;

    /// <summary>Counts one rate-limited request in its window and returns the window's decision id.</summary>
    public string Add(SourceKey source, IPAddress? address, string segment, string method, string path)
    {
        var now = Time.GetUtcNow();
        var second = now.ToUnixTimeSeconds();
        var key = new WindowKey(source, segment);
        while (true)
        {
            if (!_open.TryGetValue(key, out var window))
            {
                if (_disposed || _open.Count >= _capacity)
                {
                    var single = new Window(source, address, segment, second, DecisionIds.Next(now));
                    single.Join(now, method, path);
                    Write(single);
                    return single.DecisionId;
                }

                window = _open.GetOrAdd(key, static (k, s) => new Window(k.Source, s.Address, k.Segment, s.Second, DecisionIds.Next(s.Now)),
                    (Address: address, Second: second, Now: now));
            }

            bool joined;
            var tallied = true;
            lock (window)
            {
                joined = !window.Closed && window.Second == second;
                if (joined && _tally is not null)
                {
                    // Counted in the tally before the answer, so that a crash cannot take the count with it.
                    if (window.Slot < 0 && window.Count == 0)
                    {
                        window.Slot = _tally.Begin(window.DecisionId, window.Address, window.Segment, _policyVersion, now);
                    }

                    tallied = window.Slot >= 0;
                }

                if (joined && tallied)
                {
                    window.Join(now, method, path);
                    if (_tally is not null)
                    {
                        _tally.Count(window.Slot, window.Count, now);
                    }
                }
            }

            if (joined && !tallied)
            {
                // No slot left to count it in: written now, as a window of its own.
                var single = new Window(source, address, segment, second, DecisionIds.Next(now));
                single.Join(now, method, path);
                Write(single);
                return single.DecisionId;
            }

            if (joined)
            {
                if (_disposed)
                {
                    // Opened while Dispose was writing the others: written here, so it is not left behind.
                    Close(key, window);
                }

                return window.DecisionId;
            }

            // The window belongs to another second, or was just written: close it (once) and open this second's.
            Close(key, window);
        }
    }

    /// <summary>Writes every window whose second is over.</summary>
    public void FlushPast()
    {
        var second = Time.GetUtcNow().ToUnixTimeSeconds();
        foreach (var (key, window) in _open)
        {
            if (window.Second < second)
            {
                Close(key, window);
            }
        }
    }

    /// <summary>Stops the timer and writes every open window; requests after this get a window of their own.</summary>
    public void Dispose()
    {
        _disposed = true;
        _timer.Dispose();
        foreach (var (key, window) in _open)
        {
            Close(key, window);
        }
    }

    // Exactly one caller closes a window, and only that caller writes it.
    private void Close(WindowKey key, Window window)
    {
        bool closing;
        lock (window)
        {
            closing = !window.Closed;
            window.Closed = true;
        }

        _open.TryRemove(KeyValuePair.Create(key, window));
        if (closing && window.Count > 0)
        {
            Write(window);
        }

        if (closing && window.Slot >= 0)
        {
            // Only once its line is out: a crash before this writes the window again at the next start.
            _tally!.End(window.Slot);
        }
    }

    private void Write(Window window) => _audit.RecordRateLimited(new RateLimitedEvent
    {
        DecisionId = window.DecisionId,
        Start = window.Start,
        End = window.End,
        Count = window.Count,
        Segment = window.Segment,
        ClientAddress = window.Address,
        Source = window.Source.ToString(),
        Method = window.Method,
        Path = window.Path,
        PolicyVersion = _policyVersion,
    });

    private readonly record struct WindowKey(SourceKey Source, string Segment);

    /// <summary>One source's rate-limited requests on one segment within one second. Guarded by its own lock.</summary>
    private sealed class Window(SourceKey source, IPAddress? address, string segment, long second, string decisionId)
    {
        private bool _uniform = true;

        public SourceKey Source { get; } = source;

        public IPAddress? Address { get; } = address;

        public string Segment { get; } = segment;

        public long Second { get; } = second;

        public string DecisionId { get; } = decisionId;

        public bool Closed { get; set; }

        /// <summary>The window's slot in the crash-safe tally; -1 when it has none.</summary>
        public int Slot { get; set; } = -1;

        public int Count { get; private set; }

        public DateTimeOffset Start { get; private set; }

        public DateTimeOffset End { get; private set; }

        public string? Method { get; private set; }

        public string? Path { get; private set; }

        public void Join(DateTimeOffset now, string method, string path)
        {
            if (Count == 0)
            {
                Start = now;
                Method = method;
                Path = path;
            }
            else if (_uniform && !(string.Equals(Method, method, StringComparison.Ordinal) && string.Equals(Path, path, StringComparison.Ordinal)))
            {
                // Requests of the window differ: the line names neither method nor path rather than one of them.
                _uniform = false;
                Method = null;
                Path = null;
            }

            Count++;
            End = now;
        }
    }
}
