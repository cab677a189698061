using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Engine;
using ZtGateway.Sources.Continuous;

namespace ZtGateway.Tests.Continuous;

public sealed class ContinuousEvaluationTests : IDisposable
{
    private static readonly DateTimeOffset Start = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "ztgw-continuous-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly FakeTimeProvider _time = new(Start);
    private readonly MemoryLivePolicy _context;

    public ContinuousEvaluationTests() => _context = new MemoryLivePolicy(_directory);

    public void Dispose()
    {
        _context.Dispose();
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    private ContinuousEvaluation Open() => ContinuousEvaluation.Open(_context, _time, NullLoggerFactory.Instance);

    private static Principal Alice(DateTimeOffset issuedAt) => new() { Kind = PrincipalKind.User, Subject = "alice", Issuer = "https://idp.test", IssuedAt = issuedAt };

    [Fact]
    public void CommittedChanges_AreInForceAtOnce_AndAfterReopening()
    {
        var token = Alice(Start.AddMinutes(-1));
        var laptop = new DevicePosture { DeviceId = "laptop-7", Segment = "finance" };
        using (var continuous = Open())
        {
            Assert.Equal(default, continuous.Check(token, laptop));
            Assert.True(continuous.Commit(new JournalRecord
            {
                Type = JournalRecordTypes.Revoke, Time = Start, Issuer = "https://idp.test", Subject = "alice", At = Start, Actor = "https://edr.test",
                TokenId = "set-1", TokenIssuedAt = Start,
            }));
            Assert.True(continuous.Commit(new JournalRecord
            {
                Type = JournalRecordTypes.Hold, Time = Start, Target = QuarantineTargets.Device, Id = "laptop-7", Origin = QuarantineOrigins.Admin,
                Until = Start.AddHours(1), Actor = "root",
            }));
            Assert.Equal(new ContinuousVerdict(Revoked: true, StepUpRequired: false, PrincipalQuarantined: false, DeviceQuarantined: true),
                continuous.Check(token, laptop));
        }

        using (var reopened = Open())
        {
            Assert.Equal(new ContinuousVerdict(Revoked: true, StepUpRequired: false, PrincipalQuarantined: false, DeviceQuarantined: true),
                reopened.Check(token, laptop));

            // The replayed SET id is still known, so the same SET is not applied twice.
            Assert.False(reopened.Replay.TryClaim("https://edr.test", "set-1", Start, _time.GetUtcNow()));
            Assert.Equal(Start, reopened.LearningSince);
        }
    }

    [Fact]
    public void Changes_AreAuditedAsEntityManagement()
    {
        using (var continuous = Open())
        {
            continuous.Commit(new JournalRecord
            {
                Type = JournalRecordTypes.Hold, Time = Start, Target = QuarantineTargets.Principal, Id = "mallory", Origin = QuarantineOrigins.Admin, Actor = "root",
            });
        }

        var line = Assert.Single(_context.Lines);
        Assert.Contains("\"class_uid\":3004", line, StringComparison.Ordinal);
        Assert.Contains("\"uid\":\"mallory\"", line, StringComparison.Ordinal);
    }

    [Fact]
    public void LearningPeriod_StartsOnce_AndIsKept()
    {
        using (Open())
        {
        }

        _time.Advance(TimeSpan.FromDays(3));
        using var later = Open();

        Assert.Equal(Start, later.LearningSince);
    }

    [Fact]
    public void LongHistory_IsCompactedAtStart_WithoutLosingAnythingInForce()
    {
        var laptop = new DevicePosture { DeviceId = "laptop-7", Segment = "finance" };
        using (var continuous = Open())
        {
            // Subjects revoked over and over, a device quarantined and released by signals, one device held by an operator.
            for (var i = 0; i < 40; i++)
            {
                _time.Advance(TimeSpan.FromSeconds(1));
                var now = _time.GetUtcNow();
                continuous.Commit(new JournalRecord { Type = JournalRecordTypes.Revoke, Time = now, Issuer = "https://idp.test", Subject = "user-" + (i % 3), At = now });
                continuous.Commit(new JournalRecord
                {
                    Type = i % 2 == 0 ? JournalRecordTypes.Hold : JournalRecordTypes.Release, Time = now, At = now, Target = QuarantineTargets.Device,
                    Id = "laptop-9", Origin = QuarantineOrigins.Signal, Actor = "https://edr.test",
                });
            }

            continuous.Commit(new JournalRecord
            {
                Type = JournalRecordTypes.Hold, Time = _time.GetUtcNow(), Target = QuarantineTargets.Device, Id = "laptop-7", Origin = QuarantineOrigins.Admin,
                Until = _time.GetUtcNow().AddHours(1), Actor = "root", Reason = "stolen",
            });
            continuous.Commit(new JournalRecord { Type = JournalRecordTypes.Pair, Time = Start, SourceSegment = "finance", DestinationSegment = "hr" });
            continuous.Commit(new JournalRecord
            {
                Type = JournalRecordTypes.Seen, Time = _time.GetUtcNow(), Actor = "https://edr.test", TokenId = "set-9", TokenIssuedAt = _time.GetUtcNow(),
            });
        }

        var path = Path.Combine(_directory, StateJournal.FileName);
        var linesBefore = File.ReadAllLines(path).Length;
        using (var compacted = ContinuousEvaluation.Open(_context, _time, NullLoggerFactory.Instance, compactionThreshold: 20))
        {
            Assert.True(File.ReadAllLines(path).Length < linesBefore / 4, $"{File.ReadAllLines(path).Length} lines left of {linesBefore}");
            Assert.True(compacted.Check(Alice(Start) with { Subject = "user-1" }, laptop).Revoked);
            Assert.True(compacted.Check(Alice(Start), laptop).DeviceQuarantined);
            Assert.Equal("stolen", compacted.Quarantines.Find(QuarantineTargets.Device, "laptop-7", QuarantineOrigins.Admin, _time.GetUtcNow())!.Reason);
            Assert.False(compacted.Replay.TryClaim("https://edr.test", "set-9", _time.GetUtcNow(), _time.GetUtcNow()));
            Assert.Equal(Start, compacted.LearningSince);
            Assert.Equal([("finance", "hr")], compacted.LearnedPairs);

            // The last event for laptop-9 was a release; an older not-compliant event delivered late still loses.
            compacted.Commit(new JournalRecord
            {
                Type = JournalRecordTypes.Hold, Time = _time.GetUtcNow(), At = _time.GetUtcNow().AddSeconds(-5), Target = QuarantineTargets.Device,
                Id = "laptop-9", Origin = QuarantineOrigins.Signal,
            });
            Assert.False(compacted.Quarantines.IsQuarantined(QuarantineTargets.Device, "laptop-9", _time.GetUtcNow()));

            // Appends go to the new file.
            compacted.Commit(new JournalRecord { Type = JournalRecordTypes.Revoke, Time = _time.GetUtcNow(), Issuer = "https://idp.test", Subject = "late", At = _time.GetUtcNow() });
        }

        using var reopened = Open();
        Assert.True(reopened.Check(Alice(Start) with { Subject = "late" }, null).Revoked);
        Assert.True(reopened.Check(Alice(Start) with { Subject = "user-2" }, laptop).DeviceQuarantined);
        Assert.Contains(File.ReadAllLines(path), l => l.Contains("\"type\":\"pair\"", StringComparison.Ordinal) && l.Contains("\"dst\":\"hr\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ShortHistory_IsLeftAsItIs()
    {
        using (var continuous = Open())
        {
            continuous.Commit(new JournalRecord { Type = JournalRecordTypes.Revoke, Time = Start, Issuer = "https://idp.test", Subject = "a", At = Start });
            continuous.Commit(new JournalRecord { Type = JournalRecordTypes.Revoke, Time = Start, Issuer = "https://idp.test", Subject = "a", At = Start.AddSeconds(1) });
        }

        var path = Path.Combine(_directory, StateJournal.FileName);
        var before = await File.ReadAllTextAsync(path);
        using (ContinuousEvaluation.Open(_context, _time, NullLoggerFactory.Instance, compactionThreshold: 20))
        {
        }

        Assert.Equal(before, await File.ReadAllTextAsync(path));
    }

    [Fact]
    public void UnwritableStateFolder_FailsToOpen()
    {
        File.WriteAllText(_directory + ".file", "not a folder");
        using var blocked = new MemoryLivePolicy(_directory + ".file");
        try
        {
            Assert.ThrowsAny<IOException>(() => ContinuousEvaluation.Open(blocked, _time, NullLoggerFactory.Instance));
        }
        finally
        {
            File.Delete(_directory + ".file");
        }
    }
}
