namespace ZtGateway.Enforcement.Resilience;

/// <summary>How the gateway deals with upstream destinations that fail. Process-wide; not part of the policy files.</summary>
internal sealed record UpstreamResilienceOptions
{
    /// <summary>
    /// Longest silence from a destination (connecting, waiting for the response headers, between body reads)
    /// before the request fails with <c>upstream-timeout</c> (504). Defaults to 30 seconds.
    /// </summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How many more destinations an idempotent request (GET, HEAD, OPTIONS without a body) may try after a
    /// connection failure. Defaults to 2; at least 1.
    /// </summary>
    public int RetryAttempts { get; init; } = 2;

    /// <summary>Share of failed attempts within <see cref="BreakerSamplingDuration"/> that opens a destination's circuit. Defaults to 0.5.</summary>
    public double BreakerFailureRatio { get; init; } = 0.5;

    /// <summary>Attempts within the sampling window before the ratio counts. Defaults to 5; at least 2.</summary>
    public int BreakerMinimumThroughput { get; init; } = 5;

    /// <summary>Window over which the failure ratio is measured. Defaults to 30 seconds.</summary>
    public TimeSpan BreakerSamplingDuration { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long an open circuit keeps a destination out before one trial request. Defaults to 15 seconds.</summary>
    public TimeSpan BreakerBreakDuration { get; init; } = TimeSpan.FromSeconds(15);
}
