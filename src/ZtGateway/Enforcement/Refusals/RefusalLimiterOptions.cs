using ZtGateway.Policy.Configuration;

namespace ZtGateway.Enforcement.Refusals;

/// <summary>How the <see cref="RefusalLimiter"/> counts refusals and aggregates the requests it answers 429.</summary>
internal sealed record RefusalLimiterOptions
{
    /// <summary>How fast a source's allowance refills; null turns the limit off. Defaults to 50 per second.</summary>
    public RefusalRate? RefusalsPerSource { get; init; } = LimitsSettings.DefaultRefusalsPerSource;

    /// <summary>Refusals a source may cause in a burst (the bucket size). Defaults to 100.</summary>
    public int RefusalBurst { get; init; } = 100;

    /// <summary>
    /// Most windows of rate-limited requests held open at once (one per source and segment). Past it, a request of
    /// a further source gets a window, and an audit line, of its own. Defaults to 10,000.
    /// </summary>
    public int MaxOpenWindows { get; init; } = 10_000;

    /// <summary>How often windows whose second has passed are written. Defaults to one second.</summary>
    public TimeSpan FlushInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The options of the <c>gateway.limits</c> section.</summary>
    public static RefusalLimiterOptions From(LimitsSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return new RefusalLimiterOptions { RefusalsPerSource = settings.RefusalsPerSource, RefusalBurst = settings.RefusalBurst };
    }

    /// <summary>
    /// The <c>Retry-After</c> of a 429, in whole seconds: the time one refusal takes to refill, at least one second.
    /// </summary>
    public int RetryAfterSeconds => RefusalsPerSource is { } rate
        ? Math.Max(1, (int)Math.Ceiling(rate.Period.TotalSeconds / rate.Count))
        : 1;
}
