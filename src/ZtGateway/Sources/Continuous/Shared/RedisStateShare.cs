using System.Diagnostics.Metrics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using StackExchange.Redis;
using ZtGateway.Policy.Configuration;

namespace ZtGateway.Sources.Continuous.Shared;

/// <summary>
/// Continuous-evaluation state shared by every gateway that names the same Redis and prefix (<c>gateway.sharedState</c>).
/// <list type="bullet">
/// <item>Every committed change is appended (<c>RPUSH</c>) to one Redis list, <c>{prefix}:log</c>, which orders the changes
/// of the whole deployment, and announced on the channel <c>{prefix}:changes</c>. Each gateway reads the list from where it
/// stopped, on every announcement and at least once a second, and applies what the others wrote: requests are decided on
/// the local tables, never with a Redis round trip. A list, not a stream, so that every server that speaks the protocol
/// serves it (Garnet has no streams).</item>
/// <item>Entries are numbered from the first ever appended: <c>{prefix}:log:base</c> counts those compaction removed from the
/// head, and is changed with the removal in one <c>MULTI</c>, so a reader that reads both in one <c>MULTI</c> never skips an entry.</item>
/// <item>A signal's id is claimed for the deployment with <c>SET NX</c> on <c>{prefix}:jti:{digest}</c>.</item>
/// <item>Unreachable Redis: changes are applied and journaled locally at once and kept in order until Redis is back.
/// On every connection the gateway reads what it missed, and when Redis came back without our data (its epoch,
/// <c>{prefix}:epoch</c>, changed) it publishes everything it holds: replaying records in any order gives the same
/// tables, so nothing acknowledged is lost.</item>
/// <item>Everything read from Redis is untrusted input: an entry that does not parse as a state record is skipped,
/// counted and logged.</item>
/// </list>
/// </summary>
internal sealed partial class RedisStateShare : IStateShare, IAsyncDisposable
{
    /// <summary>The name of the process-wide meter of the shared state.</summary>
    public const string MeterName = "ZtGateway.SharedState";

    private const int MaxEntryBytes = 16 * 1024;
    private const int PageSize = 500;

    private static readonly Meter Meter = new(MeterName);
    private static readonly Counter<long> Rejected = Meter.CreateCounter<long>("ztgw.shared_state.rejected",
        "{record}", "Entries read from the shared state that were not valid state records and were skipped");

    private static readonly UpDownCounter<long> ConnectedGauge = Meter.CreateUpDownCounter<long>("ztgw.shared_state.connected",
        "{connection}", "1 while this gateway's shared state answers, 0 while it is unreachable");

    private readonly ContinuousEvaluation _continuous;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _instance = Guid.NewGuid().ToString("N");
    private readonly RedisKey _log;
    private readonly RedisKey _base;
    private readonly RedisKey _epoch;
    private readonly string _claimPrefix;
    private readonly RedisChannel _changes;
    private readonly Channel<JournalRecord> _outbox = Channel.CreateUnbounded<JournalRecord>(new UnboundedChannelOptions { SingleReader = true });
    private readonly SemaphoreSlim _wake = new(0, int.MaxValue);
    private readonly CancellationTokenSource _stopping = new();
    private readonly TimeSpan _poll;
    private readonly long _compactAbove;
    private readonly RedisKey _compactLock;
    private ConnectionMultiplexer? _redis;
    private Task _reader = Task.CompletedTask;
    private Task _writer = Task.CompletedTask;
    private string? _knownEpoch;
    private long _next = -1; // the number of the next entry to read; -1 before the first read of an epoch
    private long _knownBase;
    private int _badBase; // 1 while the base read from Redis is not a count
    private readonly string _positionFile;
    private (string Epoch, long Next)? _saved;
    private long _savedAtTicks;
    private int _connected = -1; // 1 while the last round trip succeeded, 0 while it failed, -1 before the first
    private long _applied;
    private int _woken; // 1 while a wake-up is pending
    private bool _subscribed;

    private RedisStateShare(SharedStateSettings settings, ContinuousEvaluation continuous, TimeProvider time, ILogger logger, TimeSpan poll,
        long compactAbove)
    {
        _compactAbove = compactAbove;
        _compactLock = settings.Prefix + ":compacting";
        Settings = settings;
        _continuous = continuous;
        _time = time;
        _logger = logger;
        _poll = poll;
        _log = settings.Prefix + ":log";
        _base = settings.Prefix + ":log:base";
        _epoch = settings.Prefix + ":epoch";
        _claimPrefix = settings.Prefix + ":jti:";
        _changes = RedisChannel.Literal(settings.Prefix + ":changes");
        _positionFile = Path.Join(Path.GetDirectoryName(continuous.StateFile), PositionFileName);
        // A position vouches for the state file beside it; one without it (deleted, or never written) is read from the start.
        _saved = continuous.StartedEmpty ? null : ReadPosition(_positionFile, settings.Prefix);
    }

    /// <summary>
    /// The file in <c>stateDir</c> that says how far this gateway read the log of which epoch, so that a restart reads on from
    /// there instead of writing the whole log into the state file again.
    /// </summary>
    public const string PositionFileName = "ztgw-shared.json";

    public SharedStateSettings Settings { get; }

    /// <summary>Entries beyond which a stream that is mostly history is compacted.</summary>
    public const long DefaultCompactAbove = 10_000;

    /// <summary>True while Redis answers.</summary>
    public bool Connected => Volatile.Read(ref _connected) == 1;

    /// <summary>Changes of other gateways applied here since start.</summary>
    public long Applied => Interlocked.Read(ref _applied);

    /// <summary>This gateway's name in the shared state (random per start).</summary>
    public string Instance => _instance;

    /// <summary>The connection's database, for the other tables the deployment keeps under the same prefix (the detector's windows).</summary>
    public IDatabase Database => (_redis ?? throw new InvalidOperationException("The shared state is not started.")).GetDatabase();

    /// <summary>Reports a failed round trip of another table of the shared state: logged once per outage, like the share's own.</summary>
    public void Unreachable(string why) => Lost(why);

    /// <summary>Reports a round trip of another table of the shared state that succeeded.</summary>
    public void Reachable() => Found();

    /// <summary>
    /// Connects (without waiting for Redis to answer: an unreachable Redis at start is an outage like any other), shares
    /// <paramref name="continuous"/>'s changes from now on, and starts reading the others'.
    /// </summary>
    /// <param name="settings">The <c>gateway.sharedState</c> section.</param>
    /// <param name="continuous">This gateway's continuous evaluation.</param>
    /// <param name="time">The clock of the records.</param>
    /// <param name="loggerFactory">Where logs go.</param>
    /// <param name="poll">How often the stream is read without an announcement; one second when null.</param>
    /// <param name="compactAbove">Entries beyond which a stream that is mostly history is compacted; <see cref="DefaultCompactAbove"/> when null.</param>
    public static async Task<RedisStateShare> StartAsync(SharedStateSettings settings, ContinuousEvaluation continuous, TimeProvider time,
        ILoggerFactory loggerFactory, TimeSpan? poll = null, long? compactAbove = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(continuous);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        var share = new RedisStateShare(settings, continuous, time, loggerFactory.CreateLogger("ZtGateway.SharedState"), poll ?? TimeSpan.FromSeconds(1),
            compactAbove ?? DefaultCompactAbove);
        var options = ConfigurationOptions.Parse(settings.Redis);
        options.AbortOnConnectFail = false;
        options.ClientName ??= "ztgw";
        options.ConnectTimeout = Math.Min(options.ConnectTimeout, 5000);

        // The client logs through us only: its own writer would print the configuration, password included.
        share._redis = await ConnectionMultiplexer.ConnectAsync(options, log: null);
        share._redis.ConnectionFailed += share.OnConnectionFailed;
        share._redis.ConnectionRestored += share.OnConnectionRestored;
        continuous.Share(share);
        share._reader = Task.Run(share.ReadLoopAsync);
        share._writer = Task.Run(share.WriteLoopAsync);
        return share;
    }

    public void Publish(JournalRecord record) => _outbox.Writer.TryWrite(record);

    public async ValueTask<bool?> TryClaimAsync(string issuer, string id, TimeSpan retention, CancellationToken cancellationToken)
    {
        if (_redis is not { } redis || !Connected || retention <= TimeSpan.Zero)
        {
            return null;
        }

        var digest = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(issuer + "\n" + id)));
        try
        {
            var db = redis.GetDatabase();
            var key = _claimPrefix + digest;
            if (await db.StringSetAsync(key, _instance, retention, When.NotExists).WaitAsync(cancellationToken))
            {
                return true;
            }

            // Ours from an earlier delivery that could not be made durable here: the transmitter's retry is welcome.
            return await db.StringGetAsync(key).WaitAsync(cancellationToken) == _instance;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            Lost(ex.Message);
            return null;
        }
    }

    // Announcements arriving while the reader is busy coalesce into one more turn.
    private void Wake()
    {
        if (Interlocked.Exchange(ref _woken, 1) == 0)
        {
            _wake.Release();
        }
    }

    // Reads the stream from the last entry applied, on every announcement, every poll interval, and after a reconnect.
    private async Task ReadLoopAsync()
    {
        var token = _stopping.Token;
        while (!token.IsCancellationRequested)
        {
            try
            {
                Volatile.Write(ref _woken, 0);
                if (!_subscribed)
                {
                    // Here, not at start: an unreachable Redis must not hold the start up. Once made, the client renews it
                    // on every reconnection by itself.
                    await _redis!.GetSubscriber().SubscribeAsync(_changes, (_, _) => Wake());
                    _subscribed = true;
                }

                await SynchroniseAsync();
                Found();
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                Lost(ex.Message);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Never let one bad turn stop the sharing: the next turn reads from the same place.
                Log.Failed(_logger, ex);
            }

            try
            {
                await _wake.WaitAsync(_poll, token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task SynchroniseAsync()
    {
        var db = _redis!.GetDatabase();

        // A Redis that lost our data (restarted without persistence, flushed) has a new epoch: read it all again, and
        // give it back everything this gateway holds. Records replay in any order to the same tables.
        var fresh = Guid.NewGuid().ToString("N");
        await db.StringSetAsync(_epoch, fresh, when: When.NotExists);
        var epoch = (string?)await db.StringGetAsync(_epoch);
        if (epoch != _knownEpoch)
        {
            var first = _knownEpoch is null;
            _knownEpoch = epoch;

            // Read on from where the last run stopped when it read this very data; from the start otherwise.
            _next = first && _saved is { } saved && saved.Epoch == epoch ? saved.Next : -1;
            await ReadNewAsync(db);
            SavePosition(force: true);
            var live = _continuous.LiveRecords(_time.GetUtcNow());
            foreach (var record in live)
            {
                Publish(record);
            }

            if (!first)
            {
                Log.Republished(_logger, live.Count);
            }

            return;
        }

        await ReadNewAsync(db);
        SavePosition(force: false);
        await CompactIfWorthItAsync(db);
    }

    // At most once a second, and at the end: a position saved late only means a few entries are read again (they replay to
    // the same tables). Never ahead of what the state file holds: the entries before it were applied, and journaled, first.
    private void SavePosition(bool force)
    {
        if (_knownEpoch is not { } epoch || _next < 0 || _saved is { } saved && saved.Epoch == epoch && saved.Next == _next)
        {
            return;
        }

        var now = Environment.TickCount64;
        if (!force && now - Interlocked.Read(ref _savedAtTicks) < 1000)
        {
            return;
        }

        try
        {
            var temporary = _positionFile + ".new";
            using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
            using (var json = new Utf8JsonWriter(stream))
            {
                json.WriteStartObject();
                json.WriteString("prefix", Settings.Prefix);
                json.WriteString("epoch", epoch);
                json.WriteNumber("next", _next);
                json.WriteEndObject();
            }

            File.Move(temporary, _positionFile, overwrite: true);
            _saved = (epoch, _next);
            Interlocked.Exchange(ref _savedAtTicks, now);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Log.PositionNotSaved(_logger, _positionFile, ex.Message);
        }
    }

    private static (string Epoch, long Next)? ReadPosition(string path, string prefix)
    {
        try
        {
            using var json = JsonDocument.Parse(File.ReadAllBytes(path));
            var root = json.RootElement;
            return root.ValueKind == JsonValueKind.Object
                && root.TryGetProperty("prefix", out var p) && p.ValueKind == JsonValueKind.String && p.GetString() == prefix
                && root.TryGetProperty("epoch", out var e) && e.ValueKind == JsonValueKind.String && e.GetString() is { Length: > 0 } epoch
                && root.TryGetProperty("next", out var n) && n.TryGetInt64(out var next) && next >= 0
                ? (epoch, next)
                : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException)
        {
            // Absent or damaged: the log is read from the start, which only costs time.
            return null;
        }
    }

    // Every change adds an entry. When the log is long and mostly history, one gateway at a time writes what is in force
    // up to the last entry it applied after the end of the log, and only then removes the entries before it: a gateway
    // reading at any moment sees the old entries or their summary, and records replay in any order to the same tables.
    private async Task CompactIfWorthItAsync(IDatabase db)
    {
        if (_next <= _knownBase)
        {
            return;
        }

        var length = await db.ListLengthAsync(_log);
        if (length <= _compactAbove)
        {
            return;
        }

        var upTo = _next;
        var live = _continuous.LiveRecords(_time.GetUtcNow());
        if (live.Count * 2 > length || !await db.LockTakeAsync(_compactLock, _instance, TimeSpan.FromMinutes(1)))
        {
            return;
        }

        try
        {
            foreach (var chunk in live.Chunk(PageSize))
            {
                await db.ListRightPushAsync(_log, [.. chunk.Select(Entry)]);
            }

            // The removal and the new base in one MULTI, and only if no one moved the base meanwhile.
            var removed = upTo - _knownBase;
            var transaction = db.CreateTransaction();
            transaction.AddCondition(_knownBase == 0 ? Condition.KeyNotExists(_base) : Condition.StringEqual(_base, _knownBase));
            _ = transaction.ListTrimAsync(_log, removed, -1);
            _ = transaction.StringIncrementAsync(_base, removed);
            if (await transaction.ExecuteAsync())
            {
                _knownBase = upTo;
                Log.Compacted(_logger, _log.ToString(), length, removed, live.Count);
            }
        }
        finally
        {
            // Only our own lock: one that outlived its minute may be another gateway's by now.
            await db.LockReleaseAsync(_compactLock, _instance);
        }
    }

    // Reads the base and a page of the log in one MULTI, so the page is numbered right even while another gateway compacts.
    private async Task ReadNewAsync(IDatabase db)
    {
        while (true)
        {
            var start = Math.Max(_next, _knownBase);
            var transaction = db.CreateTransaction();
            var readBase = transaction.StringGetAsync(_base);
            var readPage = transaction.ListRangeAsync(_log, start - _knownBase, start - _knownBase + PageSize - 1);
            await transaction.ExecuteAsync();
            var readValue = await readBase;
            long @base = 0;
            if (!readValue.IsNull && (!readValue.TryParse(out @base) || @base < 0))
            {
                // Only compaction writes the base; anything else there is planted. Numbering stays as it was.
                if (Interlocked.Exchange(ref _badBase, 1) == 0)
                {
                    Rejected.Add(1);
                    Log.EntriesRejected(_logger, _base.ToString(), 1, "not a count of removed entries");
                }

                @base = _knownBase;
            }
            else
            {
                Volatile.Write(ref _badBase, 0);
            }

            if (@base != _knownBase)
            {
                // Compacted since the last read: the page was read at the wrong place. What was removed and not yet read
                // here is in the summary written after it.
                _knownBase = @base;
                continue;
            }

            var entries = await readPage;
            _next = start + entries.Length;
            var rejected = 0;
            string? firstProblem = null;
            for (var i = 0; i < entries.Length; i++)
            {
                var problem = Parse(entries[i], _instance, out var ours, out var record);
                if (ours)
                {
                    continue; // ours: applied when it was committed
                }

                if (problem is null)
                {
                    _continuous.ApplyRemote(record!);
                    Interlocked.Increment(ref _applied);
                }
                else
                {
                    rejected++;
                    firstProblem ??= $"entry {start + i}: {problem}";
                }
            }

            if (rejected > 0)
            {
                // One line per page, however many entries a writer to Redis planted.
                Rejected.Add(rejected);
                Log.EntriesRejected(_logger, _log.ToString(), rejected, firstProblem!);
            }

            if (entries.Length < PageSize)
            {
                return;
            }
        }
    }

    // An entry is the writing gateway's instance, a newline, and the state record as the state file holds it.
    private RedisValue Entry(JournalRecord record) => Encoding.UTF8.GetBytes(_instance + "\n" + StateJournal.Format(record));

    private static string? Parse(RedisValue value, string self, out bool ours, out JournalRecord? record)
    {
        ours = false;
        record = null;
        if (value.IsNull)
        {
            return "empty";
        }

        var bytes = (byte[])value!;
        if (bytes.Length > MaxEntryBytes)
        {
            return $"larger than {MaxEntryBytes} bytes";
        }

        var newline = Array.IndexOf(bytes, (byte)'\n');
        if (newline is < 1 or > 64)
        {
            return "no gateway name before the record";
        }

        var instance = bytes.AsSpan(0, newline);
        ours = instance.Length == self.Length && Encoding.ASCII.GetString(instance) == self;
        return ours ? null : StateJournal.TryParse(bytes.AsSpan(newline + 1), out record);
    }

    // Sends committed changes in order; a change that could not be sent is sent again once Redis answers.
    private async Task WriteLoopAsync()
    {
        var token = _stopping.Token;
        var reader = _outbox.Reader;
        JournalRecord? pending = null;
        while (!token.IsCancellationRequested)
        {
            try
            {
                pending ??= await reader.ReadAsync(token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (ChannelClosedException)
            {
                return;
            }

            try
            {
                var db = _redis!.GetDatabase();
                await db.ListRightPushAsync(_log, Entry(pending));
                pending = null;
                if (!reader.TryPeek(out _))
                {
                    await _redis.GetSubscriber().PublishAsync(_changes, _instance);
                }

                Found();
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                Lost(ex.Message);
                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(250), token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private void OnConnectionFailed(object? sender, ConnectionFailedEventArgs e) => Lost(e.FailureType.ToString());

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e) => Wake();

    // One line when Redis is lost (or unreachable from the start) and one when it is back, however many requests and
    // retries happen in between.
    private void Lost(string why)
    {
        var was = Interlocked.Exchange(ref _connected, 0);
        if (was == 1)
        {
            ConnectedGauge.Add(-1, new KeyValuePair<string, object?>("prefix", Settings.Prefix));
        }

        if (was != 0)
        {
            Log.Lost(_logger, Settings.RedactedRedis, why);
        }
    }

    private void Found()
    {
        if (Interlocked.Exchange(ref _connected, 1) != 1)
        {
            ConnectedGauge.Add(1, new KeyValuePair<string, object?>("prefix", Settings.Prefix));
            Log.Found(_logger, Settings.RedactedRedis, Settings.Prefix);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _outbox.Writer.TryComplete();
        await _stopping.CancelAsync();
        await Task.WhenAll(_reader, _writer);
        SavePosition(force: true);
        if (Interlocked.Exchange(ref _connected, 0) == 1)
        {
            ConnectedGauge.Add(-1, new KeyValuePair<string, object?>("prefix", Settings.Prefix));
        }
        if (_redis is { } redis)
        {
            redis.ConnectionFailed -= OnConnectionFailed;
            redis.ConnectionRestored -= OnConnectionRestored;
            await redis.CloseAsync(allowCommandsToComplete: false);
            await redis.DisposeAsync();
        }

        _stopping.Dispose();
        _wake.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 620, Level = LogLevel.Information, Message = "Shared state {Redis} (prefix {Prefix}) is reachable; changes are shared")]
        public static partial void Found(ILogger logger, string redis, string prefix);

        [LoggerMessage(EventId = 621, Level = LogLevel.Error,
            Message = "Shared state {Redis} is unreachable ({Why}); this gateway serves with what it holds and shares its changes when it is back")]
        public static partial void Lost(ILogger logger, string redis, string why);

        [LoggerMessage(EventId = 622, Level = LogLevel.Warning,
            Message = "Shared state {Log}: {Count} entries are not valid state records and were skipped (first: {Problem})")]
        public static partial void EntriesRejected(ILogger logger, string log, int count, string problem);

        [LoggerMessage(EventId = 625, Level = LogLevel.Information,
            Message = "Shared state {Log} compacted: {Removed} of {Length} entries removed, {Live} records in force written after them")]
        public static partial void Compacted(ILogger logger, string log, long length, long removed, int live);

        [LoggerMessage(EventId = 624, Level = LogLevel.Error, Message = "Shared state: reading the changes of other gateways failed; retrying")]
        public static partial void Failed(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 626, Level = LogLevel.Warning,
            Message = "Shared state: how far the log was read could not be saved to {File} ({Why}); a restart reads it from the start")]
        public static partial void PositionNotSaved(ILogger logger, string file, string why);

        [LoggerMessage(EventId = 623, Level = LogLevel.Warning,
            Message = "Shared state came back without this deployment's data; {Records} records this gateway holds were published again")]
        public static partial void Republished(ILogger logger, int records);
    }
}
