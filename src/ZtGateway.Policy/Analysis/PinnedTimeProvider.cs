namespace ZtGateway.Policy.Analysis;

/// <summary>
/// A clock that always reads one instant, so that an analysis (a policy test case, an <c>explain</c> with <c>--at</c>)
/// judges grants and authentication ages as of that instant.
/// </summary>
public sealed class PinnedTimeProvider : TimeProvider
{
    private readonly DateTimeOffset instant;

    /// <summary>A clock stopped at <paramref name="instant"/>.</summary>
    public PinnedTimeProvider(DateTimeOffset instant) => this.instant = instant;

    /// <inheritdoc/>
    public override DateTimeOffset GetUtcNow() => instant.ToUniversalTime();
}
