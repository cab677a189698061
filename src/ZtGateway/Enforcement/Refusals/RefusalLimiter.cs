using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Threading.RateLimiting;
using ZtGateway.Audit;
using ZtGateway.Policy.Engine;

namespace ZtGateway.Enforcement.Refusals;

/// <summary>
/// The per-source refusal limit (<c>gateway.limits</c>): every refused request takes one token from its source's
/// bucket, and a source whose bucket is empty is answered 429 <c>rate-limited</c> before any of its credentials is
/// verified, with nothing forwarded, until the bucket refills. Allowed requests never take from a bucket, so the
/// people behind one NAT are not refused for one attacker among them until that attacker has used up the allowance.
/// </summary>
/// <remarks>
/// The buckets are a <see cref="PartitionedRateLimiter{TResource}"/> of token buckets keyed by <see cref="SourceKey"/>;
/// they refill on the monotonic clock of System.Threading.RateLimiting (not the injected <see cref="TimeProvider"/>),
/// and a bucket full for ten seconds is dropped. Only sources that emptied their bucket are looked up on the way in,
/// so the allow path never touches the limiter; and a limited source's bucket is looked at again only once a
/// refusal can have refilled, so its flood of 429s takes no lock. The 429 answers are audited by
/// <see cref="RateLimitedWindows"/>, one line per source and second.
/// </remarks>
internal sealed partial class RefusalLimiter : IDisposable
{
    private readonly PartitionedRateLimiter<SourceKey>? _buckets;
    // Sources whose bucket was empty, with the Stopwatch timestamp before which it cannot hold a whole token again.
    private readonly ConcurrentDictionary<SourceKey, long> _exhausted = new();
    private readonly long _refillTicks;
    private readonly RateLimitedWindows _windows;
    private readonly ILogger _logger;
    private readonly string _retryAfter;
    private readonly ITimer? _sweep;

    // How often sources that stopped coming are taken off the exhausted list once their bucket refilled.
    private static readonly TimeSpan SweepInterval = TimeSpan.FromSeconds(10);

    public RefusalLimiter(RefusalLimiterOptions options, AuditTrail audit, string policyVersion, TimeProvider timeProvider, ILogger logger,
        RateLimitTally? tally = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.RefusalBurst, 1);
        Options = options;
        _logger = logger;
        _retryAfter = options.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        _windows = new RateLimitedWindows(audit, policyVersion, timeProvider, options.MaxOpenWindows, options.FlushInterval, tally);
        if (options.RefusalsPerSource is { } rate)
        {
            // Time for one refusal to refill, at most the 100 ms between two refills of the partitioned limiter.
            _refillTicks = (long)(Math.Min(rate.Period.TotalSeconds / rate.Count, 0.1) * Stopwatch.Frequency);
            var bucket = new TokenBucketRateLimiterOptions
            {
                TokenLimit = options.RefusalBurst,
                TokensPerPeriod = rate.Count,
                ReplenishmentPeriod = rate.Period,
                QueueLimit = 0,
                AutoReplenishment = true,
            };
            _buckets = PartitionedRateLimiter.Create<SourceKey, SourceKey>(source => RateLimitPartition.GetTokenBucketLimiter(source, _ => bucket));
            _sweep = timeProvider.CreateTimer(static s => ((RefusalLimiter)s!).Sweep(), this, SweepInterval, SweepInterval);
        }
    }

    public RefusalLimiterOptions Options { get; }

    /// <summary>
    /// True when <paramref name="client"/>'s source has used up its refusals: its request is to be answered 429
    /// before any credential is verified. Costs one dictionary lookup for every other source.
    /// </summary>
    public bool IsLimited(IPAddress? client)
    {
        if (_buckets is null)
        {
            return false;
        }

        var source = SourceKey.Of(client);
        if (!_exhausted.TryGetValue(source, out var recheckAt))
        {
            return false;
        }

        var now = Stopwatch.GetTimestamp();
        if (now < recheckAt)
        {
            return true;
        }

        if (HasTokens(source))
        {
            _exhausted.TryRemove(KeyValuePair.Create(source, recheckAt));
            return false;
        }

        _exhausted.TryUpdate(source, now + _refillTicks, recheckAt);
        return true;
    }

    /// <summary>Takes one token from the bucket of <paramref name="client"/>'s source after its request was refused.</summary>
    public void Refused(IPAddress? client)
    {
        if (_buckets is null)
        {
            return;
        }

        var source = SourceKey.Of(client);
        try
        {
            using var lease = _buckets.AttemptAcquire(source, 1);
            if ((!lease.IsAcquired || !HasTokens(source)) && _exhausted.TryAdd(source, Stopwatch.GetTimestamp() + _refillTicks))
            {
                Log.SourceLimited(_logger, source.ToString(), Options.RefusalBurst, Options.RefusalsPerSource!.ToString());
            }
        }
        catch (ObjectDisposedException)
        {
            // A request still running on a replaced policy state: the refusal itself stands, only the count is lost.
        }
    }

    /// <summary>
    /// Counts a request of a limited source in the source's current window (its aggregated audit line) and returns
    /// the window's decision id, which the answer carries.
    /// </summary>
    public string RecordLimited(HttpContext context, string segment, IPAddress? client)
    {
        ArgumentNullException.ThrowIfNull(context);
        var request = context.Request;
        return _windows.Add(SourceKey.Of(client), client, segment, request.Method, request.Path.Value ?? string.Empty);
    }

    /// <summary>Answers 429 <c>rate-limited</c> problem+json with <c>Retry-After</c> and the window's decision id.</summary>
    public Task AnswerAsync(HttpContext context, string segment, string decisionId, string traceId)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Response.Headers.RetryAfter = _retryAfter;
        return DenialWriter.WriteAsync(context, segment, ReasonCode.RateLimited, decisionId, traceId);
    }

    /// <summary>Writes the open windows; a request answered after this gets an audit line of its own.</summary>
    public void Dispose()
    {
        _sweep?.Dispose();
        _windows.Dispose();
        _buckets?.Dispose();
    }

    /// <summary>Sources listed as having used up their refusals.</summary>
    internal int ExhaustedCount => _exhausted.Count;

    // A source that stopped sending would otherwise stay listed for good.
    internal void Sweep()
    {
        foreach (var entry in _exhausted)
        {
            if (HasTokens(entry.Key))
            {
                _exhausted.TryRemove(entry);
            }
        }
    }

    private bool HasTokens(SourceKey source)
    {
        try
        {
            return _buckets!.GetStatistics(source) is not { CurrentAvailablePermits: < 1 };
        }
        catch (ObjectDisposedException)
        {
            return true;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1020, Level = LogLevel.Warning,
            Message = "Source {Source} used up its refusals ({Burst}, refilling at {Rate}); its requests are answered 429 rate-limited until it refills")]
        public static partial void SourceLimited(ILogger logger, string source, int burst, string rate);
    }
}
