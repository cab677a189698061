using System.Net;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;

namespace ZtGateway.Sources.Identity;

/// <summary>
/// The resilience pipeline every discovery document request goes through: a total budget, retries
/// with jittered exponential backoff, a circuit breaker and a per-attempt timeout (outermost first, the
/// order of the standard HTTP resilience pipeline). One pipeline per issuer, so one provider's outage
/// never opens another's circuit. The issuer's key set fetches use the same budget, retries and attempt
/// timeout in the pipeline of its <see cref="ZtGateway.KeySets.JsonWebKeySetCache"/>.
/// </summary>
internal static class MetadataResilience
{
    /// <summary>
    /// Budget of one document request, retries included: less than a caller waits
    /// (<see cref="DiscoveryIssuerTrust.FetchTimeout"/>), so a fetch that hangs has failed by the time the
    /// caller gives up, and the next caller starts a new one instead of joining it.
    /// </summary>
    public static readonly TimeSpan TotalTimeout = TimeSpan.FromSeconds(4);

    /// <summary>How long one attempt may take; a hanging provider still leaves room for a retry.</summary>
    public static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(2);

    /// <summary>Retries after the first attempt.</summary>
    public const int MaxRetryAttempts = 2;

    /// <summary>Median delay before the first retry; later ones grow exponentially, with jitter.</summary>
    public static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(200);

    /// <summary>Failed attempts within <see cref="BreakerSamplingDuration"/> (all of them failing) that open the circuit.</summary>
    public const int BreakerMinimumThroughput = 5;

    /// <summary>Window over which the breaker counts attempts.</summary>
    public static readonly TimeSpan BreakerSamplingDuration = TimeSpan.FromSeconds(30);

    /// <summary>How long an open circuit refuses every request before letting one trial through.</summary>
    public static readonly TimeSpan BreakDuration = TimeSpan.FromSeconds(10);

    /// <summary>Builds the pipeline for one issuer.</summary>
    /// <param name="breakerClock">
    /// Clock of the circuit breaker's window and break. Timeouts and retry delays always run on the system
    /// clock: they bound real network waits.
    /// </param>
    public static ResiliencePipeline Create(TimeProvider breakerClock)
    {
        ArgumentNullException.ThrowIfNull(breakerClock);
        var breaker = new ResiliencePipelineBuilder { TimeProvider = breakerClock }
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                FailureRatio = 1.0,
                MinimumThroughput = BreakerMinimumThroughput,
                SamplingDuration = BreakerSamplingDuration,
                BreakDuration = BreakDuration,
                ShouldHandle = new PredicateBuilder().Handle<Exception>(IsTransient),
            })
            .Build();

        return new ResiliencePipelineBuilder()
            .AddTimeout(TotalTimeout)
            .AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = MaxRetryAttempts,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = RetryDelay,
                ShouldHandle = new PredicateBuilder().Handle<Exception>(IsTransient),
            })
            .AddPipeline(breaker)
            .AddTimeout(AttemptTimeout)
            .Build();
    }

    /// <summary>
    /// Failures worth another attempt: transport errors, timeouts and server-side statuses. A 404 or a
    /// refused plain-HTTP address will not change by asking again.
    /// </summary>
    public static bool IsTransient(Exception exception) => exception switch
    {
        TimeoutRejectedException => true,
        HttpRequestException => true,
        MetadataStatusException status => IsTransient(status.StatusCode),
        _ => false,
    };

    private static bool IsTransient(HttpStatusCode status)
        => (int)status >= 500 || status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests;
}
