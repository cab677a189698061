using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using ZtGateway.Audit;
using ZtGateway.Continuous;
using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Engine;

namespace ZtGateway.Tests.Continuous;

public sealed class ContinuousEvaluationTests : IDisposable
{
    private static readonly DateTimeOffset Start = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "ztgw-continuous-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly FakeTimeProvider _time = new(Start);
    private readonly Context _context;

    public ContinuousEvaluationTests() => _context = new Context(_directory);

    public void Dispose()
    {
        _context.Dispose();
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    private ContinuousEvaluation Open() => ContinuousEvaluation.Open(_context, _time, null, NullLoggerFactory.Instance);

    private static Principal Alice(DateTimeOffset issuedAt) => new() { Kind = PrincipalKind.User, Subject = "alice", Issuer = "https://idp.test", IssuedAt = issuedAt };

    [Fact]
    public async Task CommittedChanges_AreInForceAtOnce_AndAfterReopening()
    {
        var token = Alice(Start.AddMinutes(-1));
        var laptop = new DevicePosture { DeviceId = "laptop-7", Segment = "finance" };
        await using (var continuous = Open())
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

        await using (var reopened = Open())
        {
            Assert.Equal(new ContinuousVerdict(Revoked: true, StepUpRequired: false, PrincipalQuarantined: false, DeviceQuarantined: true),
                reopened.Check(token, laptop));

            // The replayed SET id is still known, so the same SET is not applied twice.
            Assert.False(reopened.Replay.TryClaim("https://edr.test", "set-1", Start, _time.GetUtcNow()));
            Assert.Equal(Start, reopened.Detector.LearningSince);
        }
    }

    [Fact]
    public async Task Changes_AreAuditedAsEntityManagement()
    {
        await using (var continuous = Open())
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
    public async Task LearningPeriod_StartsOnce_AndIsKept()
    {
        await using (Open())
        {
        }

        _time.Advance(TimeSpan.FromDays(3));
        await using var later = Open();

        Assert.Equal(Start, later.Detector.LearningSince);
    }

    [Fact]
    public void UnwritableStateFolder_FailsToOpen()
    {
        File.WriteAllText(_directory + ".file", "not a folder");
        using var blocked = new Context(_directory + ".file");
        try
        {
            Assert.ThrowsAny<IOException>(() => ContinuousEvaluation.Open(blocked, _time, null, NullLoggerFactory.Instance));
        }
        finally
        {
            File.Delete(_directory + ".file");
        }
    }

    private sealed class Context : IContinuousContext, IDisposable
    {
        private readonly Sink _sink = new();

        public Context(string stateDirectory)
        {
            Gateway = new GatewayConfig { FilePath = "/gateway.yaml", Gateway = new GatewaySettings { StateDir = stateDirectory } };
            Audit = new AuditTrail([_sink], auditAllows: true, NullLogger.Instance);
        }

        public GatewayConfig Gateway { get; }

        public AuditTrail Audit { get; }

        public string PolicyVersion => "v1";

        public IReadOnlyList<string> Lines => _sink.Lines;

        public void Dispose() => Audit.Dispose();

        private sealed class Sink : IAuditSink
        {
            private readonly List<string> _lines = [];

            public string Name => "memory";

            public IReadOnlyList<string> Lines => _lines;

            public void Write(ReadOnlySpan<byte> line) => _lines.Add(System.Text.Encoding.UTF8.GetString(line).TrimEnd('\n'));

            public void Dispose()
            {
            }
        }
    }
}
