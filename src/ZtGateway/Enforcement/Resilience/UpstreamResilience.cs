using System.Runtime.CompilerServices;
using Polly;
using Polly.Retry;
using Yarp.ReverseProxy.Model;

namespace ZtGateway.Enforcement.Resilience;

/// <summary>
/// The upstream resilience of one segment listener: a Polly retry pipeline around all attempts of a request, and one
/// circuit breaker per destination around each attempt.
/// </summary>
internal sealed class UpstreamResilience
{
    private readonly ConditionalWeakTable<DestinationState, DestinationBreaker> _breakers = [];
    private readonly UpstreamResilienceOptions _options;
    private readonly TimeProvider _time;

    public UpstreamResilience(UpstreamResilienceOptions options, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _options = options;
        _time = timeProvider;

        // The next attempt goes to another destination, so there is nothing to wait for.
        Retry = new ResiliencePipelineBuilder<UpstreamAttempt> { TimeProvider = timeProvider }
            .AddRetry(new RetryStrategyOptions<UpstreamAttempt>
            {
                MaxRetryAttempts = options.RetryAttempts,
                Delay = TimeSpan.Zero,
                BackoffType = DelayBackoffType.Constant,
                UseJitter = false,
                ShouldHandle = static args => ValueTask.FromResult(args.Outcome.Result.MayTryAnother),
            })
            .Build();
    }

    /// <summary>Runs the attempts of one request.</summary>
    public ResiliencePipeline<UpstreamAttempt> Retry { get; }

    /// <summary>The circuit breaker of a destination, created on first use and forgotten with the destination.</summary>
    public DestinationBreaker BreakerFor(DestinationState destination) =>
        _breakers.TryGetValue(destination, out var breaker) ? breaker : _breakers.GetValue(destination, _ => new DestinationBreaker(_options, _time));
}

/// <summary>
/// One destination's circuit: opened by connection failures and timeouts (not by the status codes it answers) when, within
/// <see cref="UpstreamResilienceOptions.BreakerSamplingDuration"/>, at least <see cref="UpstreamResilienceOptions.BreakerMinimumThroughput"/>
/// attempts were made and at least <see cref="UpstreamResilienceOptions.BreakerFailureRatio"/> of them failed. An open circuit
/// keeps the destination out for <see cref="UpstreamResilienceOptions.BreakerBreakDuration"/>, then lets one trial attempt
/// through: if it is answered the circuit closes, if it fails it opens again.
/// </summary>
/// <remarks>
/// On every request, so it takes no lock there: an attempt is counted with one interlocked increment in the bucket of the
/// current tenth of the sampling window; a lock is taken only to start a new bucket (once per tenth) and to change state.
/// </remarks>
internal sealed class DestinationBreaker
{
    private const int BucketCount = 10;
    private const int Closed = 0;
    private const int Open = 1;
    private const int HalfOpen = 2;

    private readonly UpstreamResilienceOptions _options;
    private readonly TimeProvider _time;
    private readonly long _bucketTicks;
    private readonly long _breakTicks;
    private readonly Bucket[] _buckets = new Bucket[BucketCount];
    private readonly Lock _lock = new();
    private volatile int _state;
    private long _openUntil;

    public DestinationBreaker(UpstreamResilienceOptions options, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _options = options;
        _time = timeProvider;
        _bucketTicks = Math.Max(1, (long)(options.BreakerSamplingDuration.TotalSeconds * timeProvider.TimestampFrequency / BucketCount));
        _breakTicks = (long)(options.BreakerBreakDuration.TotalSeconds * timeProvider.TimestampFrequency);
        for (var i = 0; i < BucketCount; i++)
        {
            _buckets[i] = new Bucket { Epoch = -1 };
        }
    }

    /// <summary>False while the circuit is open (before its trial is due) or its trial is under way: the destination is not tried.</summary>
    public bool Admits => _state switch
    {
        Closed => true,
        Open => _time.GetTimestamp() >= Interlocked.Read(ref _openUntil),
        _ => false,
    };

    /// <summary>
    /// Asks to make an attempt. False when the circuit keeps the destination out; true otherwise, and then
    /// <see cref="Exit"/> must follow with what the attempt came to. <paramref name="trial"/> says the attempt is the one
    /// an open circuit lets through.
    /// </summary>
    public bool TryEnter(out bool trial)
    {
        trial = false;
        var state = _state;
        if (state == Closed)
        {
            return true;
        }

        if (state == HalfOpen || _time.GetTimestamp() < Interlocked.Read(ref _openUntil))
        {
            return false;
        }

        lock (_lock)
        {
            if (_state != Open)
            {
                return _state == Closed;
            }

            _state = HalfOpen;
            trial = true;
            return true;
        }
    }

    /// <summary>Counts an attempt that <see cref="TryEnter"/> admitted.</summary>
    public void Exit(AttemptKind kind, bool trial)
    {
        var failed = kind is AttemptKind.ConnectFailed or AttemptKind.TimedOut;
        var now = _time.GetTimestamp();
        if (trial)
        {
            lock (_lock)
            {
                if (failed)
                {
                    OpenLocked(now);
                }
                else
                {
                    ResetLocked();
                    _state = Closed;
                }
            }

            return;
        }

        var bucket = Current(now);
        Interlocked.Increment(ref bucket.Total);
        if (!failed)
        {
            return;
        }

        Interlocked.Increment(ref bucket.Failed);
        lock (_lock)
        {
            if (_state != Closed)
            {
                return;
            }

            var epoch = now / _bucketTicks;
            long total = 0, failures = 0;
            foreach (var b in _buckets)
            {
                if (b.Epoch > epoch - BucketCount)
                {
                    total += Interlocked.Read(ref b.Total);
                    failures += Interlocked.Read(ref b.Failed);
                }
            }

            if (total >= _options.BreakerMinimumThroughput && failures >= _options.BreakerFailureRatio * total)
            {
                OpenLocked(now);
            }
        }
    }

    private Bucket Current(long now)
    {
        var epoch = now / _bucketTicks;
        var bucket = _buckets[(int)(epoch % BucketCount)];
        if (Volatile.Read(ref bucket.Epoch) == epoch)
        {
            return bucket;
        }

        lock (_lock)
        {
            // A tenth of the window began: its bucket starts empty.
            if (bucket.Epoch != epoch)
            {
                Interlocked.Exchange(ref bucket.Total, 0);
                Interlocked.Exchange(ref bucket.Failed, 0);
                Volatile.Write(ref bucket.Epoch, epoch);
            }
        }

        return bucket;
    }

    private void OpenLocked(long now)
    {
        Interlocked.Exchange(ref _openUntil, now + _breakTicks);
        ResetLocked();
        _state = Open;
    }

    private void ResetLocked()
    {
        foreach (var bucket in _buckets)
        {
            Interlocked.Exchange(ref bucket.Total, 0);
            Interlocked.Exchange(ref bucket.Failed, 0);
            Volatile.Write(ref bucket.Epoch, -1);
        }
    }

    private sealed class Bucket
    {
        public long Epoch;
        public long Total;
        public long Failed;
    }
}
