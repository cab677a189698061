using ZtGateway.Policy.Engine;
using ZtGateway.Sources.Continuous;

namespace ZtGateway.Tests.Continuous;

public sealed class RevocationStoreTests
{
    private static readonly DateTimeOffset T = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);

    private static Principal Alice(DateTimeOffset? issuedAt, string issuer = "https://idp.test") =>
        new() { Kind = PrincipalKind.User, Subject = "alice", Issuer = issuer, IssuedAt = issuedAt };

    private static JournalRecord Record(string type, DateTimeOffset at, string sub = "alice") =>
        new() { Type = type, Time = at, Issuer = "https://idp.test", Subject = sub, At = at };

    [Theory]
    [InlineData(-60, true)]
    [InlineData(0, true)]
    [InlineData(1, false)]
    [InlineData(3600, false)]
    public void Revocation_CoversTokensIssuedAtOrBeforeTheEvent(int issuedOffsetSeconds, bool revoked)
    {
        var store = new RevocationStore();
        store.Apply(Record(JournalRecordTypes.Revoke, T));

        Assert.Equal(revoked, store.IsRevoked(Alice(T.AddSeconds(issuedOffsetSeconds))));
        Assert.False(store.NeedsStepUp(Alice(T.AddSeconds(issuedOffsetSeconds))));
    }

    [Fact]
    public void TokenWithoutIat_CountsAsIssuedBefore()
    {
        var store = new RevocationStore();
        store.Apply(Record(JournalRecordTypes.StepUp, T));

        Assert.True(store.NeedsStepUp(Alice(issuedAt: null)));
        Assert.False(store.IsRevoked(Alice(issuedAt: null)));
    }

    [Fact]
    public void Revocation_IsPerIssuerAndSubject()
    {
        var store = new RevocationStore();
        store.Apply(Record(JournalRecordTypes.Revoke, T));

        Assert.False(store.IsRevoked(Alice(T.AddSeconds(-1), issuer: "https://other.test")));
        Assert.False(store.IsRevoked(Alice(T.AddSeconds(-1)) with { Subject = "bob" }));
    }

    [Fact]
    public void LaterEvent_Extends_EarlierEventArrivingLate_ChangesNothing()
    {
        var store = new RevocationStore();
        store.Apply(Record(JournalRecordTypes.Revoke, T));
        store.Apply(Record(JournalRecordTypes.Revoke, T.AddMinutes(10)));
        store.Apply(Record(JournalRecordTypes.Revoke, T.AddMinutes(5)));

        Assert.True(store.IsRevoked(Alice(T.AddMinutes(9))));
        Assert.Equal(T.AddMinutes(10), Assert.Single(store.Revocations).Before);
    }

    [Fact]
    public void OtherRecords_AreNotTaken()
    {
        var store = new RevocationStore();

        Assert.False(store.Apply(new JournalRecord { Type = JournalRecordTypes.Hold, Target = "device", Id = "d", Origin = "admin" }));
        Assert.Empty(store.Revocations);
    }

    private static JournalRecord SessionRecord(string sid, DateTimeOffset at, string issuer = "https://idp.test") =>
        new() { Type = JournalRecordTypes.RevokeSession, Time = at, Issuer = issuer, Target = JournalRecordTypes.SessionTarget, Id = sid, At = at };

    [Fact]
    public void SessionRevocation_CoversOnlyTheNamedProviderSessionOfThatIssuer()
    {
        var store = new RevocationStore();
        Assert.True(store.Apply(SessionRecord("sid-1", T)));

        Assert.True(store.IsRevoked(Alice(T.AddSeconds(-5)) with { SessionId = "sid-1" }));
        Assert.False(store.IsRevoked(Alice(T.AddSeconds(-5)) with { SessionId = "sid-2" }));
        Assert.False(store.IsRevoked(Alice(T.AddSeconds(-5))));
        Assert.False(store.IsRevoked(Alice(T.AddSeconds(-5), issuer: "https://other.test") with { SessionId = "sid-1" }));

        // A sign-in after the logout is a new session, even if the provider reuses the sid.
        Assert.False(store.IsRevoked(Alice(T.AddSeconds(1)) with { SessionId = "sid-1" }));
    }

    [Fact]
    public void SessionRevocation_IsKeptInLiveRecordsForItsRetentionOnly()
    {
        var store = new RevocationStore();
        store.Apply(SessionRecord("sid-1", T));

        var live = Assert.Single(store.Live(T.AddHours(1)));
        Assert.Equal(JournalRecordTypes.RevokeSession, live.Type);
        Assert.Equal("sid-1", live.Id);
        Assert.Null(JournalRecordCheck.Problem(live));
        Assert.Empty(store.Live(T + RevocationStore.SessionRetention));

        var rebuilt = new RevocationStore();
        rebuilt.Apply(live);
        Assert.True(rebuilt.IsRevoked(Alice(T) with { SessionId = "sid-1" }));
    }
}
