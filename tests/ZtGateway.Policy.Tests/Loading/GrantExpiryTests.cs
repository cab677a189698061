namespace ZtGateway.Policy.Tests.Loading;

/// <summary>Validation lists just-in-time grants that have ended, and warns a week ahead of those about to end.</summary>
public sealed class GrantExpiryTests
{
    // The full sample's ledger-sync grant ends at 2026-12-31T00:00:00Z.
    private static readonly DateTimeOffset GrantEnds = new(2026, 12, 31, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Warns_OnGrantExpiringWithinSevenDays_AndStillLoads()
    {
        using var folder = PolicySamples.Full();

        var result = folder.Load(GrantEnds.AddDays(-5));

        Assert.True(result.Succeeded);
        Assert.Equal(
            ["segments/hr.yaml:30:16: warning: rule 'ledger-sync': grant expires at 2026-12-31T00:00:00Z (in 5 days); renew it or let it lapse"],
            folder.Format(result));
    }

    [Fact]
    public void Warns_InHours_OnTheLastDay()
    {
        using var folder = PolicySamples.Full();

        var result = folder.Load(GrantEnds.AddHours(-3));

        Assert.Equal(
            ["segments/hr.yaml:30:16: warning: rule 'ledger-sync': grant expires at 2026-12-31T00:00:00Z (in 3 h); renew it or let it lapse"],
            folder.Format(result));
    }

    [Fact]
    public void Warns_ExactlySevenDaysAhead()
    {
        using var folder = PolicySamples.Full();

        var result = folder.Load(GrantEnds.AddDays(-7));

        Assert.Single(result.Diagnostics);
        Assert.Contains("(in 7 days)", result.Diagnostics[0].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DoesNotWarn_AboutGrantEndingLaterThanAWeek()
    {
        using var folder = PolicySamples.Full();

        var result = folder.Load(GrantEnds.AddDays(-7).AddMinutes(-1));

        Assert.True(result.Succeeded);
        Assert.Empty(result.Diagnostics);
    }

    [Fact]
    public void ListsExpiredGrant_OnceItHasEnded()
    {
        using var folder = PolicySamples.Full();

        var result = folder.Load(GrantEnds);

        Assert.Equal(
            ["segments/hr.yaml:30:16: warning: rule 'ledger-sync': grant expired at 2026-12-31T00:00:00Z; it no longer applies"],
            folder.Format(result));
    }
}
