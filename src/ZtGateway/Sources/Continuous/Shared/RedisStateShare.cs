using System.Diagnostics.Metrics;
using System.Security.Cryptography;
using System.Text;
using System.Threading.Channels;
using StackExchange.Redis;
using ZtGateway.Policy.Configuration;

namespace ZtGateway.Sources.Continuous.Shared;

/// <summary>
/// Continuous-evaluation state shared by every gateway that names the same Redis and prefix (<c>gateway.sharedState</c>).
/// <list type="bullet">
/// <item>Every committed change is appended to one Redis stream, <c>{prefix}:log</c>, which orders the changes of
/// the whole deployment, and announced on the channel <c>{prefix}:changes</c>. Each gateway reads the stream from
/// where it stopped, on every announcement and at least once a second, and applies what the others wrote: requests are
/// decided on the local tables, never with a Redis round trip.</item>
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
    private RedisValue _lastId = RedisValue.Null;
    private int _connected; // 1 while the last round trip succeeded
    private long _applied;
    private int _woken; // 1 while a wake-up is pending

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
        _epoch = settings.Prefix + ":epoch";
        _claimPrefix = settings.Prefix + ":jti:";
        _changes = RedisChannel.Literal(settings.Prefix + ":changes");
    }

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
        await share._redis.GetSubscriber().SubscribeAsync(share._changes, (_, _) => share.Wake());
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
            _lastId = RedisValue.Null;
            await ReadNewAsync(db);
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
        await CompactIfWorthItAsync(db);
    }

    // Every change adds an entry. When the stream is long and mostly history, one gateway at a time writes what is in
    // force up to the last entry it applied after that entry, and only then removes the entries before it: a gateway
    // reading at any moment sees the old entries or their summary, and records replay in any order to the same tables.
    private async Task CompactIfWorthItAsync(IDatabase db)
    {
        if (_lastId.IsNull)
        {
            return;
        }

        var length = await db.StreamLengthAsync(_log);
        if (length <= _compactAbove)
        {
            return;
        }

        var upTo = _lastId;
        var live = _continuous.LiveRecords(_time.GetUtcNow());
        if (live.Count * 2 > length || !await db.StringSetAsync(_compactLock, _instance, TimeSpan.FromMinutes(1), When.NotExists))
        {
            return;
        }

        try
        {
            foreach (var record in live)
            {
                await db.StreamAddAsync(_log,
                [
                    new NameValueEntry(Fields.Instance, _instance),
                    new NameValueEntry(Fields.Record, Encoding.UTF8.GetBytes(StateJournal.Format(record))),
                ]);
            }

            var removed = await db.StreamTrimByMinIdAsync(_log, upTo);
            Log.Compacted(_logger, _log.ToString(), length, removed, live.Count);
        }
        finally
        {
            await db.KeyDeleteAsync(_compactLock);
        }
    }

    private async Task ReadNewAsync(IDatabase db)
    {
        while (true)
        {
            var from = _lastId.IsNull ? (RedisValue)"-" : _lastId;
            var entries = await db.StreamRangeAsync(_log, from, "+", PageSize);
            var fresh = 0;
            var rejected = 0;
            string? firstProblem = null;
            foreach (var entry in entries)
            {
                if (entry.Id == _lastId)
                {
                    continue; // the range includes the entry it starts from
                }

                fresh++;
                _lastId = entry.Id;
                if (entry[Fields.Instance] == _instance)
                {
                    continue; // ours: applied when it was committed
                }

                var problem = Parse(entry, out var record);
                if (problem is null)
                {
                    _continuous.ApplyRemote(record!);
                    Interlocked.Increment(ref _applied);
                }
                else
                {
                    rejected++;
                    firstProblem ??= entry.Id + ": " + problem;
                }
            }

            if (rejected > 0)
            {
                // One line per page, however many entries a writer to Redis planted.
                Rejected.Add(rejected);
                Log.EntriesRejected(_logger, _log.ToString(), rejected, firstProblem!);
            }

            if (entries.Length < PageSize || fresh == 0)
            {
                return;
            }
        }
    }

    private static string? Parse(StreamEntry entry, out JournalRecord? record)
    {
        record = null;
        var value = entry[Fields.Record];
        if (value.IsNull)
        {
            return "no record field";
        }

        var bytes = (byte[])value!;
        return bytes.Length > MaxEntryBytes ? $"larger than {MaxEntryBytes} bytes" : StateJournal.TryParse(bytes, out record);
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
                await db.StreamAddAsync(_log,
                [
                    new NameValueEntry(Fields.Instance, _instance),
                    new NameValueEntry(Fields.Record, Encoding.UTF8.GetBytes(StateJournal.Format(pending))),
                ]);
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

    // One line when Redis is lost and one when it is back, however many requests and retries happen in between.
    private void Lost(string why)
    {
        if (Interlocked.Exchange(ref _connected, 0) == 1)
        {
            ConnectedGauge.Add(-1, new KeyValuePair<string, object?>("prefix", Settings.Prefix));
            Log.Lost(_logger, Settings.RedactedRedis, why);
        }
    }

    private void Found()
    {
        if (Interlocked.Exchange(ref _connected, 1) == 0)
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

    private static class Fields
    {
        public const string Instance = "g";
        public const string Record = "r";
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

        [LoggerMessage(EventId = 623, Level = LogLevel.Warning,
            Message = "Shared state came back without this deployment's data; {Records} records this gateway holds were published again")]
        public static partial void Republished(ILogger logger, int records);
    }
}
