using System.Runtime.CompilerServices;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Yarp.ReverseProxy.Model;

namespace ZtGateway.Enforcement.Resilience;

/// <summary>
/// The Polly pipelines of one segment listener: a retry pipeline around all attempts of a request, and one
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

/// <summary>One destination's circuit: opened by connection failures and timeouts, not by the status codes it answers.</summary>
internal sealed class DestinationBreaker
{
    private readonly CircuitBreakerStateProvider _state = new();

    public DestinationBreaker(UpstreamResilienceOptions options, TimeProvider timeProvider)
    {
        Pipeline = new ResiliencePipelineBuilder<UpstreamAttempt> { TimeProvider = timeProvider }
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions<UpstreamAttempt>
            {
                FailureRatio = options.BreakerFailureRatio,
                MinimumThroughput = options.BreakerMinimumThroughput,
                SamplingDuration = options.BreakerSamplingDuration,
                BreakDuration = options.BreakerBreakDuration,
                StateProvider = _state,
                ShouldHandle = static args => ValueTask.FromResult(args.Outcome.Result.Kind is AttemptKind.ConnectFailed or AttemptKind.TimedOut),
            })
            .Build();
    }

    public ResiliencePipeline<UpstreamAttempt> Pipeline { get; }

    /// <summary>False while the circuit is open or isolated: the destination is not tried.</summary>
    public bool Admits => _state.CircuitState is not (CircuitState.Open or CircuitState.Isolated);
}
