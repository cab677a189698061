using Microsoft.Extensions.Logging;
using ZtGateway.Sources.Continuous;

namespace ZtGateway.Tests.Continuous;

public sealed class StateJournalTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "ztgw-journal-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly RecordingLogger _logger = new();

    private string FilePath => Path.Combine(_directory, StateJournal.FileName);

    private static JournalRecord Revoke(string sub, int second) => new()
    {
        Type = JournalRecordTypes.Revoke,
        Time = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000 + second),
        Issuer = "https://idp.test",
        Subject = sub,
        At = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000 + second),
    };

    private IReadOnlyList<JournalRecord> Reopen()
    {
        using var journal = StateJournal.Open(_directory, _logger, out var records);
        return records;
    }

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public void Appended_Records_AreReadBackInOrder()
    {
        using (var journal = StateJournal.Open(_directory, _logger, out var none))
        {
            Assert.Empty(none);
            journal.Append(Revoke("alice", 1));
            journal.Append(Revoke("bob", 2));
        }

        var records = Reopen();

        Assert.Equal(["alice", "bob"], records.Select(r => r.Subject));
        Assert.Equal(Revoke("alice", 1), records[0]);
        Assert.Empty(_logger.Errors);
    }

    [Fact]
    public void CorruptTail_IsReportedAndSkipped_AndTheNextAppendStartsOnItsOwnLine()
    {
        using (var journal = StateJournal.Open(_directory, _logger, out _))
        {
            journal.Append(Revoke("alice", 1));
        }

        File.AppendAllText(FilePath, "{\"type\":\"revoke\",\"iss\":\"htt");
        using (var journal = StateJournal.Open(_directory, _logger, out var records))
        {
            Assert.Equal("alice", Assert.Single(records).Subject);
            journal.Append(Revoke("bob", 2));
        }

        Assert.Contains(_logger.Errors, e => e.Contains("line 2", StringComparison.Ordinal));
        Assert.Equal(["alice", "bob"], Reopen().Select(r => r.Subject));
    }

    [Theory]
    [InlineData("not json at all")]
    [InlineData("{\"type\":\"revoke\",\"iss\":\"https://idp.test\"}")]
    [InlineData("{\"type\":\"teleport\"}")]
    [InlineData("[1,2,3]")]
    [InlineData("{\"type\":\"hold\",\"target\":\"planet\",\"id\":\"mars\",\"origin\":\"admin\"}")]
    public void DamagedLineInTheMiddle_IsSkipped_AndLaterLinesStillCount(string damaged)
    {
        using (var journal = StateJournal.Open(_directory, _logger, out _))
        {
            journal.Append(Revoke("alice", 1));
        }

        File.AppendAllText(FilePath, damaged + "\n");
        using (var journal = StateJournal.Open(_directory, _logger, out _))
        {
            journal.Append(Revoke("bob", 2));
        }

        Assert.Equal(["alice", "bob"], Reopen().Select(r => r.Subject));
        Assert.NotEmpty(_logger.Errors);
    }

    [Fact]
    public void SecondWriter_OnTheSameFolder_IsRefused()
    {
        using var first = StateJournal.Open(_directory, _logger, out _);

        Assert.ThrowsAny<IOException>(() => StateJournal.Open(_directory, _logger, out _));
    }

    [Fact]
    public void StateFile_IsReadableByItsOwnerOnly()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        using (StateJournal.Open(_directory, _logger, out _))
        {
        }

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(FilePath));
    }
}

/// <summary>Keeps the error lines a component logged.</summary>
internal sealed class RecordingLogger : ILogger
{
    private readonly List<string> _errors = [];

    public IReadOnlyList<string> Errors
    {
        get
        {
            lock (_errors)
            {
                return [.. _errors];
            }
        }
    }

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (logLevel >= LogLevel.Error)
        {
            lock (_errors)
            {
                _errors.Add(formatter(state, exception));
            }
        }
    }
}
