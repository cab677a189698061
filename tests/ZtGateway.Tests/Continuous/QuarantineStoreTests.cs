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
}
