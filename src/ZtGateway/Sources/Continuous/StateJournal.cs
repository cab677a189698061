using System.Text.Json;
using System.Text.Json.Serialization;

namespace ZtGateway.Sources.Continuous;

/// <summary>
/// The append-only state file <c>&lt;stateDir&gt;/ztgw-state.jsonl</c>: one JSON object per line, each
/// appended line flushed to the disk before the change is acknowledged (these changes are rare and must
/// survive a crash). At start the file is read in order; a line that cannot be read (a torn write at the
/// tail, a bad edit) is reported and skipped, and every other line still counts, so a damaged file can
/// never switch revocations off.
/// </summary>
internal sealed partial class StateJournal : IDisposable
{
    public const string FileName = "ztgw-state.jsonl";

    /// <summary>Held exclusively while a gateway has the state file open.</summary>
    public const string LockFileName = "ztgw-state.lock";

    private static readonly JsonSerializerOptions Options = new()
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private FileStream _file;
    private readonly FileStream _lockFile;
    private readonly Lock _lock = new();

    private StateJournal(string path, FileStream file, FileStream lockFile)
    {
        FilePath = path;
        _file = file;
        _lockFile = lockFile;
    }

    /// <summary>Absolute path of the state file.</summary>
    public string FilePath { get; }

    /// <summary>
    /// Opens (creating when absent) the state file in <paramref name="stateDirectory"/> and reads every line.
    /// </summary>
    /// <exception cref="IOException">The folder or file cannot be created, read or locked.</exception>
    /// <exception cref="UnauthorizedAccessException">The folder or file is not accessible.</exception>
    public static StateJournal Open(string stateDirectory, ILogger logger, out IReadOnlyList<JournalRecord> records)
    {
        ArgumentException.ThrowIfNullOrEmpty(stateDirectory);
        ArgumentNullException.ThrowIfNull(logger);
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(stateDirectory);
        }
        else
        {
            Directory.CreateDirectory(stateDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        var path = Path.Join(Path.GetFullPath(stateDirectory), FileName);

        // One writer: a second gateway on the same folder would append behind this one's back. The lock is a
        // file of its own, so tools can still read the state file while the gateway runs.
        var lockFile = new FileStream(Path.Join(Path.GetFullPath(stateDirectory), LockFileName), OpenOptions(FileShare.None));
        FileStream file;
        try
        {
            file = new FileStream(path, OpenOptions(FileShare.Read));
        }
        catch
        {
            lockFile.Dispose();
            throw;
        }

        try
        {
            var content = new byte[file.Length];
            file.ReadExactly(content);
            records = Parse(content, path, logger);

            // A torn last line must not swallow the next record appended after it.
            file.Seek(0, SeekOrigin.End);
            if (content.Length > 0 && content[^1] != (byte)'\n')
            {
                file.Write("\n"u8);
                file.Flush(flushToDisk: true);
            }
        }
        catch
        {
            file.Dispose();
            lockFile.Dispose();
            throw;
        }

        return new StateJournal(path, file, lockFile);
    }

    /// <summary>Appends one record and flushes it to the disk.</summary>
    /// <exception cref="IOException">The line could not be written or flushed.</exception>
    /// <exception cref="ObjectDisposedException">The journal was closed.</exception>
    public void Append(JournalRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var json = JsonSerializer.SerializeToUtf8Bytes(record, Options);
        var line = new byte[json.Length + 1];
        json.CopyTo(line, 0);
        line[^1] = (byte)'\n';
        lock (_lock)
        {
            _file.Write(line);
            _file.Flush(flushToDisk: true);
        }
    }

    /// <summary>
    /// Replaces the file with <paramref name="live"/>: written beside it, flushed, then renamed over it, so a
    /// crash leaves either the old file or the new one, never a mix. On failure the old file stays in use.
    /// </summary>
    /// <exception cref="IOException">The new file could not be written or put in place.</exception>
    public void Rewrite(IEnumerable<JournalRecord> live)
    {
        ArgumentNullException.ThrowIfNull(live);
        var temporary = FilePath + ".compacting";
        lock (_lock)
        {
            try
            {
                var options = OpenOptions(FileShare.None);
                options.Mode = FileMode.Create;
                using (var file = new FileStream(temporary, options))
                {
                    foreach (var record in live)
                    {
                        file.Write(JsonSerializer.SerializeToUtf8Bytes(record, Options));
                        file.Write("\n"u8);
                    }

                    file.Flush(flushToDisk: true);
                }

                File.Move(temporary, FilePath, overwrite: true);
            }
            finally
            {
                if (File.Exists(temporary))
                {
                    File.Delete(temporary);
                }
            }

            // The old handle points at the replaced file; appends must go to the new one.
            var next = new FileStream(FilePath, OpenOptions(FileShare.Read));
            next.Seek(0, SeekOrigin.End);
            _file.Dispose();
            _file = next;
        }
    }

    /// <summary>Serializes a record as its line would read (without the newline); for tests and tools.</summary>
    public static string Format(JournalRecord record) => JsonSerializer.Serialize(record, Options);

    public void Dispose()
    {
        lock (_lock)
        {
            _file.Dispose();
            _lockFile.Dispose();
        }
    }

    private static FileStreamOptions OpenOptions(FileShare share)
    {
        var options = new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = share, BufferSize = 0 };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        return options;
    }

    private static List<JournalRecord> Parse(byte[] content, string path, ILogger logger)
    {
        var records = new List<JournalRecord>();
        var span = content.AsSpan();
        var lineNumber = 0;
        while (span.Length > 0)
        {
            lineNumber++;
            var end = span.IndexOf((byte)'\n');
            var line = end < 0 ? span : span[..end];
            span = end < 0 ? [] : span[(end + 1)..];
            if (line.Trim(" \t\r"u8).IsEmpty)
            {
                continue;
            }

            var problem = TryParse(line, out var record);
            if (problem is null)
            {
                records.Add(record!);
            }
            else
            {
                Log.CorruptLine(logger, path, lineNumber, problem);
            }
        }

        return records;
    }

    /// <summary>Reads one record as a state-file line is read (JSON, then <see cref="JournalRecordCheck"/>); null when it is valid, else why not.</summary>
    public static string? TryParse(ReadOnlySpan<byte> line, out JournalRecord? record)
    {
        record = null;
        try
        {
            record = JsonSerializer.Deserialize<JournalRecord>(line, Options);
        }
        catch (JsonException ex)
        {
            return ex.Message;
        }
        catch (ArgumentException)
        {
            return "not UTF-8 text";
        }

        if (record is null)
        {
            return "not a JSON object";
        }

        return JournalRecordCheck.Problem(record);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 600, Level = LogLevel.Error,
            Message = "State file {Path} line {Line} is unreadable and was skipped ({Problem}); every other line still applies")]
        public static partial void CorruptLine(ILogger logger, string path, int line, string problem);
    }
}

/// <summary>What each record type needs to mean anything; a line without it is treated as damaged.</summary>
internal static class JournalRecordCheck
{
    public static string? Problem(JournalRecord record) => record.Type switch
    {
        JournalRecordTypes.Revoke or JournalRecordTypes.StepUp =>
            string.IsNullOrEmpty(record.Issuer) || string.IsNullOrEmpty(record.Subject) || record.At is null
                ? $"a {record.Type} line needs iss, sub and at" : null,
        JournalRecordTypes.RevokeSession =>
            string.IsNullOrEmpty(record.Issuer) || string.IsNullOrEmpty(record.Id) || record.At is null
                ? "a revoke-session line needs iss, id and at" : null,
        JournalRecordTypes.Hold =>
            !IsTarget(record.Target) || string.IsNullOrEmpty(record.Id) || string.IsNullOrEmpty(record.Origin)
                ? "a hold line needs target, id and origin" : null,
        JournalRecordTypes.Release =>
            !IsTarget(record.Target) || string.IsNullOrEmpty(record.Id) ? "a release line needs target and id" : null,
        JournalRecordTypes.Learning => record.At is null ? "a learning line needs at" : null,
        JournalRecordTypes.Pair =>
            string.IsNullOrEmpty(record.SourceSegment) || string.IsNullOrEmpty(record.DestinationSegment) ? "a pair line needs src and dst" : null,
        JournalRecordTypes.Posture =>
            record.Target != QuarantineTargets.Device || string.IsNullOrEmpty(record.Id) || string.IsNullOrEmpty(record.Assertion)
            || record.At is null || record.Until is null
                ? "a posture line needs target device, id, assertion, at and until" : null,
        JournalRecordTypes.Seen => string.IsNullOrEmpty(record.TokenId) ? "a seen line needs jti" : null,
        _ => "unknown record type '" + record.Type + "'",
    };

    private static bool IsTarget(string? target) => target is QuarantineTargets.Principal or QuarantineTargets.Device;
}
