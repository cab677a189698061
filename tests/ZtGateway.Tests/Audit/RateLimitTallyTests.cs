using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using ZtGateway.Audit;
using ZtGateway.Enforcement.Refusals;
using ZtGateway.Policy.Configuration;

namespace ZtGateway.Tests.Audit;

/// <summary>
/// Rate-limited requests are counted in a memory-mapped tally before they are answered, so a window that a crash
/// cut off before its aggregated line was written is written at the next start, with its decision id and count.
/// </summary>
public sealed class RateLimitTallyTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "ztgw-tally-" + Guid.NewGuid().ToString("N"));
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 3, 10, 0, 0, TimeSpan.Zero));
    private readonly IPAddress _flooder = IPAddress.Parse("127.0.0.2");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string AuditPath => Path.Combine(_directory, "audit.jsonl");

    private AuditTrail Trail() => new(new AuditSettings { Sinks = ["file:" + AuditPath] }, NullLogger.Instance);

    [Fact]
    public void WindowCutOffByACrash_IsWrittenAtTheNextStart_WithItsDecisionIdAndCount()
    {
        string decisionId;
        using (var trail = Trail())
        {
            var tally = RateLimitTally.Open(_directory, 16);
            var windows = new RateLimitedWindows(trail, "v1", _time, 16, TimeSpan.FromSeconds(1), tally);
            decisionId = windows.Add(SourceKey.Of(_flooder), _flooder, "hr", "GET", "/payroll/x");
            for (var i = 0; i < 6; i++)
            {
                Assert.Equal(decisionId, windows.Add(SourceKey.Of(_flooder), _flooder, "hr", "GET", "/payroll/x"));
            }

            // The process dies here: the windows are never flushed, only the mapping's pages remain.
            tally.Dispose();
        }

        Assert.False(File.Exists(AuditPath) && File.ReadAllText(AuditPath).Contains(decisionId, StringComparison.Ordinal));

        using var reopened = RateLimitTally.Open(_directory, 16);
        var recovered = new List<RecoveredWindow>();
        Assert.Equal(1, reopened.Recover(recovered.Add));

        var window = Assert.Single(recovered);
        Assert.Equal(decisionId, window.DecisionId);
        Assert.Equal(7, window.Count);
        Assert.Equal(_flooder, window.Address);
        Assert.Equal("hr", window.Segment);
        Assert.Equal("v1", window.PolicyVersion);
        Assert.Equal(0, reopened.Recover(_ => Assert.Fail("a recovered window is released")));
    }

    [Fact]
    public void WrittenWindow_IsReleased_AndNotWrittenAgain()
    {
        using (var trail = Trail())
        {
            using var tally = RateLimitTally.Open(_directory, 16);
            using var windows = new RateLimitedWindows(trail, "v1", _time, 16, TimeSpan.FromSeconds(1), tally);
            var decisionId = windows.Add(SourceKey.Of(_flooder), _flooder, "hr", "GET", "/x");
            windows.Add(SourceKey.Of(_flooder), _flooder, "hr", "GET", "/x");
            _time.Advance(TimeSpan.FromSeconds(2));
            windows.FlushPast();

            using var line = JsonDocument.Parse(Assert.Single(File.ReadAllLines(AuditPath)));
            Assert.Equal(decisionId, line.RootElement.GetProperty("metadata").GetProperty("uid").GetString());
            Assert.Equal(2, line.RootElement.GetProperty("count").GetInt32());
        }

        using var reopened = RateLimitTally.Open(_directory, 16);
        Assert.Equal(0, reopened.Recover(_ => Assert.Fail("a written window is not recovered")));
    }

    [Fact]
    public void FullTally_StillCountsEveryRequest_InALineOfItsOwn()
    {
        using var trail = Trail();
        using var tally = RateLimitTally.Open(_directory, 1);
        using var windows = new RateLimitedWindows(trail, "v1", _time, 16, TimeSpan.FromSeconds(1), tally);
        var first = windows.Add(SourceKey.Of(_flooder), _flooder, "hr", "GET", "/x");
        var other = IPAddress.Parse("127.0.0.3");

        var second = windows.Add(SourceKey.Of(other), other, "hr", "GET", "/x");

        Assert.NotEqual(first, second);
        Assert.Contains(second, File.ReadAllText(AuditPath), StringComparison.Ordinal);
    }

    [Fact]
    public void TallyFile_IsReadableByItsOwnerOnly()
    {
        using var tally = RateLimitTally.Open(_directory, 4);
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_directory, RateLimitTally.FileName)));
    }
}
