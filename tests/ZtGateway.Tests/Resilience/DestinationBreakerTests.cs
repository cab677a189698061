using Microsoft.Extensions.Time.Testing;
using ZtGateway.Enforcement.Resilience;

namespace ZtGateway.Tests.Resilience;

/// <summary>
/// A destination's circuit: opened by a failure ratio over the sampling window once enough attempts were made, kept
/// open for the break, then one trial decides; answered attempts of any status never open it.
/// </summary>
public sealed class DestinationBreakerTests
{
    private static readonly UpstreamResilienceOptions Options = new()
    {
        BreakerFailureRatio = 0.5,
        BreakerMinimumThroughput = 5,
        BreakerSamplingDuration = TimeSpan.FromSeconds(30),
        BreakerBreakDuration = TimeSpan.FromSeconds(15),
    };

    private static void Attempt(DestinationBreaker breaker, AttemptKind kind)
    {
        Assert.True(breaker.TryEnter(out var trial));
        breaker.Exit(kind, trial);
    }

    [Fact]
    public void FailuresBelowTheMinimumThroughput_DoNotOpen()
    {
        var breaker = new DestinationBreaker(Options, new FakeTimeProvider());
        for (var i = 0; i < 4; i++)
        {
            Attempt(breaker, AttemptKind.ConnectFailed);
        }

        Assert.True(breaker.Admits);
        Attempt(breaker, AttemptKind.ConnectFailed);
        Assert.False(breaker.Admits);
        Assert.False(breaker.TryEnter(out _));
    }

    [Fact]
    public void TheRatio_DecidesOnceEnoughAttemptsWereMade()
    {
        var breaker = new DestinationBreaker(Options, new FakeTimeProvider());
        for (var i = 0; i < 6; i++)
        {
            Attempt(breaker, AttemptKind.Answered);
        }

        // 5 failures of 11 attempts stay under one half; the sixth of 12 reaches it.
        for (var i = 0; i < 5; i++)
        {
            Attempt(breaker, AttemptKind.TimedOut);
            Assert.True(breaker.Admits);
        }

        Attempt(breaker, AttemptKind.ConnectFailed);
        Assert.False(breaker.Admits);
    }

    [Fact]
    public void AnsweredAttemptsAndOtherFailures_NeverOpen()
    {
        var breaker = new DestinationBreaker(Options, new FakeTimeProvider());
        for (var i = 0; i < 50; i++)
        {
            Attempt(breaker, i % 2 == 0 ? AttemptKind.Answered : AttemptKind.Failed);
        }

        Assert.True(breaker.Admits);
    }

    [Fact]
    public void FailuresOlderThanTheWindow_NoLongerCount()
    {
        var time = new FakeTimeProvider();
        var breaker = new DestinationBreaker(Options, time);
        for (var i = 0; i < 4; i++)
        {
            Attempt(breaker, AttemptKind.ConnectFailed);
        }

        time.Advance(TimeSpan.FromSeconds(31));
        Attempt(breaker, AttemptKind.ConnectFailed);
        Assert.True(breaker.Admits);
    }

    [Fact]
    public void AfterTheBreak_OneTrial_AnsweredClosesTheCircuit()
    {
        var time = new FakeTimeProvider();
        var breaker = Opened(time);
        time.Advance(TimeSpan.FromSeconds(14));
        Assert.False(breaker.TryEnter(out _));
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(breaker.Admits);

        Assert.True(breaker.TryEnter(out var trial));
        Assert.True(trial);
        Assert.False(breaker.Admits);                  // one trial at a time
        Assert.False(breaker.TryEnter(out _));
        breaker.Exit(AttemptKind.Answered, trial);

        Assert.True(breaker.Admits);
        Assert.True(breaker.TryEnter(out var again));
        Assert.False(again);
        breaker.Exit(AttemptKind.Answered, again);
    }

    [Fact]
    public void AFailedTrial_OpensTheCircuitForAnotherBreak()
    {
        var time = new FakeTimeProvider();
        var breaker = Opened(time);
        time.Advance(TimeSpan.FromSeconds(15));
        Assert.True(breaker.TryEnter(out var trial));
        breaker.Exit(AttemptKind.TimedOut, trial);

        Assert.False(breaker.Admits);
        time.Advance(TimeSpan.FromSeconds(14));
        Assert.False(breaker.TryEnter(out _));
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(breaker.TryEnter(out var second));
        Assert.True(second);
    }

    [Fact]
    public void ConcurrentAttempts_AreAllCounted()
    {
        var breaker = new DestinationBreaker(Options with { BreakerMinimumThroughput = 2, BreakerFailureRatio = 0.25 }, new FakeTimeProvider());
        Parallel.For(0, 4, _ =>
        {
            for (var i = 0; i < 10_000; i++)
            {
                Assert.True(breaker.TryEnter(out var trial));
                breaker.Exit(AttemptKind.Answered, trial);
            }
        });

        // 40,000 answered attempts: 13,334 failures reach a quarter only if none of them was lost.
        for (var i = 0; i < 13_333; i++)
        {
            Attempt(breaker, AttemptKind.ConnectFailed);
        }

        Assert.True(breaker.Admits);
        Attempt(breaker, AttemptKind.ConnectFailed);
        Assert.False(breaker.Admits);
    }

    private static DestinationBreaker Opened(FakeTimeProvider time)
    {
        var breaker = new DestinationBreaker(Options, time);
        for (var i = 0; i < 5; i++)
        {
            Attempt(breaker, AttemptKind.ConnectFailed);
        }

        Assert.False(breaker.Admits);
        return breaker;
    }
}
