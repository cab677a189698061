namespace ZtGateway.Fuzz;

/// <summary>A clock that never moves: the same input takes the same path on every run.</summary>
internal sealed class FixedTimeProvider(DateTimeOffset now) : TimeProvider
{
    /// <summary>The instant every target runs at; the seed tokens are minted around it.</summary>
    public static readonly DateTimeOffset Epoch = new(2026, 3, 1, 9, 0, 0, TimeSpan.Zero);

    public override DateTimeOffset GetUtcNow() => now;
}
