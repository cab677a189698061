namespace ZtGateway.Audit;

/// <summary>
/// An append-only file; every line is handed to the operating system before the response goes out. On Linux the
/// file is opened with <c>O_APPEND</c> and each line is one <c>write(2)</c>: the kernel places it at the end of the
/// file, so concurrent requests need no lock, lines of several writers never overlap, and a file that was
/// truncated or rotated underneath (copytruncate) is appended to at its real end. Elsewhere a lock serializes
/// writes to a file stream.
/// </summary>
/// <remarks>
/// The sink reopens its path when asked (<see cref="Reopen(string)"/>, SIGHUP through <see cref="AuditFileRegistry"/>) and,
/// on Linux, by itself when the path no longer names the file it has open (renamed away by a rotation, or
/// removed): at most once per <see cref="CheckInterval"/>, the writer that finds the check due compares the device
/// and inode of the path with those of its descriptor before it writes. A reopen installs the new file first and
/// then closes the old one, which the kernel keeps open until the last write already on it returns; a writer that
/// finds its file closed takes the new one. So every line goes whole to exactly one of the two files.
/// </remarks>
internal sealed partial class FileSink : IAuditSink
{
    /// <summary>How often, at most, the path is checked for a rotation by rename or a removal.</summary>
    public static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(1);

    private readonly string _path;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly AuditFileRegistry _registry;
    private readonly long _checkTicks;
    private readonly Lock _reopenLock = new();
    private readonly Lock _streamLock = new();
    private volatile AppendOnlyFile? _append;
    private FileStream? _stream;
    private long _nextCheck;
    private bool _disposed;

    private FileSink(string path, ILogger logger, TimeProvider time, AuditFileRegistry registry, AppendOnlyFile? append, FileStream? stream)
    {
        Name = "file:" + path;
        _path = path;
        _logger = logger;
        _time = time;
        _registry = registry;
        _append = append;
        _stream = stream;
        _checkTicks = (long)(CheckInterval.TotalSeconds * time.TimestampFrequency);
        _nextCheck = time.GetTimestamp() + _checkTicks;
    }

    public string Name { get; }

    /// <summary>
    /// Opens (or creates, mode 0640 on Linux) the file and joins <paramref name="registry"/>, by default the
    /// process's, so that a SIGHUP reopens it.
    /// </summary>
    /// <param name="path">The file; its folder is created when missing.</param>
    /// <param name="logger">Where reopens are reported.</param>
    /// <param name="time">
    /// Paces the rotation check. Defaults to <see cref="TimeProvider.System"/>: a rotation happens in real time,
    /// whatever clock the policy is evaluated with.
    /// </param>
    /// <param name="registry">Defaults to <see cref="AuditFileRegistry.Process"/>.</param>
    public static FileSink Open(string path, ILogger logger, TimeProvider? time = null, AuditFileRegistry? registry = null)
    {
        ArgumentNullException.ThrowIfNull(logger);
        CreateDirectory(path);
        var sink = OperatingSystem.IsLinux()
            ? new FileSink(path, logger, time ?? TimeProvider.System, registry ?? AuditFileRegistry.Process, AppendOnlyFile.Open(path), null)
            : new FileSink(path, logger, time ?? TimeProvider.System, registry ?? AuditFileRegistry.Process, null, OpenStream(path));
        sink._registry.Add(sink);
        return sink;
    }

    public void Write(ReadOnlySpan<byte> line)
    {
        if (_append is null)
        {
            lock (_streamLock)
            {
                ObjectDisposedException.ThrowIf(_stream is null, this);
                _stream.Write(line);
            }

            return;
        }

        CheckPathWhenDue();
        while (true)
        {
            var file = _append!;
            if (file.TryWrite(line))
            {
                return;
            }

            // Closed with nothing written. If a reopen installed a successor, the line goes whole to it; if the
            // file is still the current one, the sink itself was disposed.
            ObjectDisposedException.ThrowIf(ReferenceEquals(file, _append), this);
        }
    }

    /// <summary>
    /// Opens the path again and sends every later line there; the file open until now is closed once the writes
    /// already on it return. When the path cannot be opened the sink keeps its file, so no line is lost, and
    /// says so in the log. Returns whether the sink now writes to a freshly opened file.
    /// </summary>
    public bool Reopen(string reason) => Reopen(reason, expected: null);

    public void Dispose()
    {
        lock (_reopenLock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
        }

        _registry.Remove(this);
        _append?.Dispose();
        lock (_streamLock)
        {
            _stream?.Dispose();
            _stream = null;
        }
    }

    private void CheckPathWhenDue()
    {
        // One timestamp read per line; the system call happens at most once per interval, on one writer.
        var now = _time.GetTimestamp();
        var due = Volatile.Read(ref _nextCheck);
        if (now < due || Interlocked.CompareExchange(ref _nextCheck, now + _checkTicks, due) != due)
        {
            return;
        }

        var file = _append!;
        if (file.Identity is not { } open)
        {
            return;
        }

        if (AppendOnlyFile.TryIdentify(_path, out var named, out var missing))
        {
            if (named != open)
            {
                Reopen("the path names another file", file);
            }
        }
        else if (missing)
        {
            Reopen("the file was removed", file);
        }

        // Otherwise the path cannot be examined now (a folder without search permission): keep the file we have.
    }

    private bool Reopen(string reason, AppendOnlyFile? expected)
    {
        lock (_reopenLock)
        {
            if (_disposed)
            {
                return false;
            }

            if (expected is not null && !ReferenceEquals(expected, _append))
            {
                // Another reopen got there first.
                return true;
            }

            try
            {
                CreateDirectory(_path);
                if (_append is { } previous)
                {
                    var next = AppendOnlyFile.Open(_path);
                    _append = next;
                    previous.Dispose();
                    Log.Reopened(_logger, Name, reason, next.Identity?.ToString() ?? "unknown", previous.Identity?.ToString() ?? "unknown");
                }
                else
                {
                    var next = OpenStream(_path);
                    FileStream? old;
                    lock (_streamLock)
                    {
                        old = _stream;
                        _stream = next;
                    }

                    old?.Dispose();
                    Log.Reopened(_logger, Name, reason, "unknown", "unknown");
                }

                return true;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                Log.ReopenFailed(_logger, Name, reason, ex);
                return false;
            }
        }
    }

    private static void CreateDirectory(string path)
    {
        var directory = Path.GetDirectoryName(path);
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }
    }

    private static FileStream OpenStream(string path) => new(path, new FileStreamOptions
    {
        Mode = FileMode.Append,
        Access = FileAccess.Write,
        Share = FileShare.ReadWrite | FileShare.Delete,
        BufferSize = 0,
    });

    private static partial class Log
    {
        [LoggerMessage(EventId = 510, Level = LogLevel.Information, Message = "Audit sink {Sink} reopened ({Reason}): writing to file {File}, was {Previous}")]
        public static partial void Reopened(ILogger logger, string sink, string reason, string file, string previous);

        [LoggerMessage(EventId = 511, Level = LogLevel.Error, Message = "AUDIT SINK {Sink} CANNOT BE REOPENED ({Reason}); its lines keep going to the file it has open")]
        public static partial void ReopenFailed(ILogger logger, string sink, string reason, Exception exception);
    }
}
