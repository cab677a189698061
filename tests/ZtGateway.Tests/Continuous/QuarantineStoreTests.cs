using ZtGateway.Sources.Continuous;

namespace ZtGateway.Tests.Continuous;

public sealed class QuarantineStoreTests
{
    private static readonly DateTimeOffset T = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);

    private static JournalRecord Hold(string origin, DateTimeOffset at, DateTimeOffset? until = null, string target = QuarantineTargets.Device, string id = "laptop-7") =>
        new() { Type = JournalRecordTypes.Hold, Time = at, At = at, Target = target, Id = id, Origin = origin, Until = until, Reason = "test", Actor = "tester" };

    private static JournalRecord Release(string? origin, DateTimeOffset at, string target = QuarantineTargets.Device, string id = "laptop-7") =>
        new() { Type = JournalRecordTypes.Release, Time = at, At = at, Target = target, Id = id, Origin = origin };

    [Fact]
    public void Hold_WithExpiry_LapsesByItself()
    {
        var store = new QuarantineStore();
        store.Apply(Hold(QuarantineOrigins.Admin, T, until: T.AddMinutes(30)));

        Assert.True(store.IsQuarantined(QuarantineTargets.Device, "laptop-7", T.AddMinutes(29)));
        Assert.False(store.IsQuarantined(QuarantineTargets.Device, "laptop-7", T.AddMinutes(30)));
        Assert.Empty(store.Active(T.AddMinutes(31)));
    }

    [Fact]
    public void Targets_AreSeparate()
    {
        var store = new QuarantineStore();
        store.Apply(Hold(QuarantineOrigins.Admin, T, target: QuarantineTargets.Principal, id: "alice"));

        Assert.True(store.IsQuarantined(QuarantineTargets.Principal, "alice", T));
        Assert.False(store.IsQuarantined(QuarantineTargets.Device, "alice", T));
        Assert.False(store.IsQuarantined(QuarantineTargets.Principal, "bob", T));
    }

    [Fact]
    public void CompliantSignal_LiftsOnlyTheSignalsHold()
    {
        var store = new QuarantineStore();
        store.Apply(Hold(QuarantineOrigins.Signal, T));
        store.Apply(Hold(QuarantineOrigins.Admin, T.AddSeconds(1), until: T.AddHours(1)));

        store.Apply(Release(QuarantineOrigins.Signal, T.AddSeconds(2)));

        Assert.True(store.IsQuarantined(QuarantineTargets.Device, "laptop-7", T.AddSeconds(3)));
        Assert.Equal(QuarantineOrigins.Admin, Assert.Single(Assert.Single(store.Active(T.AddSeconds(3))).Holds).Origin);
    }

    [Fact]
    public void OperatorRelease_LiftsEveryHold()
    {
        var store = new QuarantineStore();
        store.Apply(Hold(QuarantineOrigins.Signal, T));
        store.Apply(Hold(QuarantineOrigins.Detection, T, until: T.AddHours(1)));

        store.Apply(Release(origin: null, T.AddSeconds(5)));

        Assert.False(store.IsQuarantined(QuarantineTargets.Device, "laptop-7", T.AddSeconds(5)));
    }

    [Fact]
    public void StaleCompliantSignal_DoesNotLiftANewerNotCompliant()
    {
        var store = new QuarantineStore();
        store.Apply(Hold(QuarantineOrigins.Signal, T.AddMinutes(2)));

        store.Apply(Release(QuarantineOrigins.Signal, T.AddMinutes(1)));

        Assert.True(store.IsQuarantined(QuarantineTargets.Device, "laptop-7", T.AddMinutes(3)));
    }

    [Fact]
    public void StaleNotCompliantSignal_DoesNotUndoANewerCompliant()
    {
        var store = new QuarantineStore();
        store.Apply(Hold(QuarantineOrigins.Signal, T));
        store.Apply(Release(QuarantineOrigins.Signal, T.AddMinutes(2)));

        store.Apply(Hold(QuarantineOrigins.Signal, T.AddMinutes(1)));

        Assert.False(store.IsQuarantined(QuarantineTargets.Device, "laptop-7", T.AddMinutes(3)));
    }

    [Fact]
    public void NewHold_OfTheSameOrigin_ReplacesTheOld()
    {
        var store = new QuarantineStore();
        store.Apply(Hold(QuarantineOrigins.Admin, T, until: T.AddHours(5)));
        store.Apply(Hold(QuarantineOrigins.Admin, T.AddMinutes(1), until: T.AddMinutes(10)));

        Assert.False(store.IsQuarantined(QuarantineTargets.Device, "laptop-7", T.AddMinutes(11)));
    }

    // Gateways sharing state may receive a hold and the release that lifted it in either order: the release wins.
    [Theory]
    [InlineData(QuarantineOrigins.Admin, QuarantineOrigins.Admin)]
    [InlineData(QuarantineOrigins.Detection, QuarantineOrigins.Detection)]
    [InlineData(QuarantineOrigins.Admin, null)]
    [InlineData(QuarantineOrigins.Detection, null)]
    public void AReleaseAndTheHoldItLifted_InEitherOrder_LeaveTheTargetFree(string origin, string? releaseOrigin)
    {
        var inOrder = new QuarantineStore();
        inOrder.Apply(Hold(origin, T, until: T.AddHours(2)));
        inOrder.Apply(Release(releaseOrigin, T.AddMinutes(1)));
        var late = new QuarantineStore();
        late.Apply(Release(releaseOrigin, T.AddMinutes(1)));
        late.Apply(Hold(origin, T, until: T.AddHours(2)));

        Assert.False(inOrder.IsQuarantined(QuarantineTargets.Device, "laptop-7", T.AddMinutes(2)));
        Assert.False(late.IsQuarantined(QuarantineTargets.Device, "laptop-7", T.AddMinutes(2)));
    }

    [Fact]
    public void AHold_PlacedAfterARelease_Applies()
    {
        var store = new QuarantineStore();
        store.Apply(Release(null, T));
        store.Apply(Hold(QuarantineOrigins.Admin, T.AddMinutes(1)));

        Assert.True(store.IsQuarantined(QuarantineTargets.Device, "laptop-7", T.AddMinutes(2)));
    }

    [Fact]
    public void TheLiveRecords_CarryRecentReleases_SoAnotherStoreKeepsTheHoldLifted()
    {
        var store = new QuarantineStore();
        store.Apply(Hold(QuarantineOrigins.Admin, T));
        store.Apply(Release(QuarantineOrigins.Admin, T.AddMinutes(1)));

        var live = store.Live(T.AddMinutes(2), TimeSpan.FromMinutes(11));
        var other = new QuarantineStore();
        foreach (var record in live)
        {
            other.Apply(record);
        }

        other.Apply(Hold(QuarantineOrigins.Admin, T)); // the stale hold, republished by a gateway that missed the release

        Assert.False(other.IsQuarantined(QuarantineTargets.Device, "laptop-7", T.AddMinutes(3)));
        Assert.DoesNotContain(store.Live(T.AddDays(2), TimeSpan.FromMinutes(11)), r => r.Type == JournalRecordTypes.Release);
    }
}
