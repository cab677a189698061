using System.Net;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.IdentityModel.Tokens;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace ZtGateway.KeySets;

/// <summary>
/// The key set of one publisher, fetched over HTTP and held: the one cache behind every JSON Web Key Set the
/// gateway and <c>ZtGateway.Upstream</c> fetch.
/// </summary>
/// <remarks>
/// <para>
/// Refresh: the set is fetched on first use (or by <see cref="StartWarmUp"/>), and again once it is older than
/// <see cref="JsonWebKeySetCacheOptions.RefreshInterval"/>, in the background or while the caller waits
/// (<see cref="JsonWebKeySetCacheOptions.RefreshInBackground"/>). A token naming a key id the set lacks causes at
/// most one fetch per <see cref="JsonWebKeySetCacheOptions.UnknownKeyIdRefreshInterval"/>.
/// </para>
/// <para>
/// One fetch at a time: callers that arrive while one runs share it. A failed fetch (transport error, timeout,
/// non-2xx answer, an answer over <see cref="JsonWebKeySetCacheOptions.MaxResponseBytes"/>, no JSON Web Key Set,
/// no usable signing key) is logged and keeps the set held before; before the first good fetch there are no keys,
/// so every verification fails. After a failure no fetch starts for
/// <see cref="JsonWebKeySetCacheOptions.RetryAfterFailure"/> (doubling while failures go on).
/// </para>
/// <para>
/// Every request goes through one Polly pipeline: a budget per fetch, limited retries with jittered exponential
/// backoff, a timeout per attempt, all on <see cref="JsonWebKeySetCacheOptions.TimeProvider"/>.
/// </para>
/// </remarks>
public sealed partial class JsonWebKeySetCache : IDisposable
{
    private const int ReadChunkBytes = 16 * 1024;
    private const int MaxLoggedKeyIdLength = 64;

    private readonly string _name;
    private readonly Func<CancellationToken, ValueTask<Uri>> _resolveAddress;
    private readonly HttpClient _httpClient;
    private readonly JsonWebKeySetCacheOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ResiliencePipeline _pipeline;
    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _disposing = new();

    private JsonWebKeySetSnapshot? _current;
    private string? _lastFailure;
    private Task<bool>? _fetch;
    private int _failuresInARow;
    private DateTimeOffset _noFetchBefore = DateTimeOffset.MinValue;
    private DateTimeOffset? _lastUnknownKeyIdFetch;
    private bool _warmUpStarted;
    private bool _disposed;

    /// <summary>Creates a cache of the key set at <paramref name="address"/>; nothing is fetched yet.</summary>
    /// <param name="name">What the key set is, for log messages (for example <c>issuer corp</c>).</param>
    /// <param name="address">Where the key set is published.</param>
    /// <param name="httpClient">The client every request goes through; not owned, never disposed here.</param>
    /// <param name="options">Refresh, pacing and limits; null for the defaults.</param>
    /// <param name="logger">Where fetches and failures are logged; null for none.</param>
    public JsonWebKeySetCache(string name, Uri address, HttpClient httpClient, JsonWebKeySetCacheOptions? options = null, ILogger? logger = null)
        : this(name, FixedAddress(address), httpClient, options, logger)
    {
    }

    /// <summary>
    /// Creates a cache whose key set address is found anew before every fetch (an OpenID Connect discovery
    /// document's <c>jwks_uri</c>); nothing is fetched yet.
    /// </summary>
    /// <param name="name">What the key set is, for log messages (for example <c>issuer corp</c>).</param>
    /// <param name="resolveAddress">
    /// Finds the key set address, with its own transport and resilience; an exception it throws fails the fetch
    /// like any other failure and is described in <see cref="LastFailure"/>.
    /// </param>
    /// <param name="httpClient">The client the key set requests go through; not owned, never disposed here.</param>
    /// <param name="options">Refresh, pacing and limits; null for the defaults.</param>
    /// <param name="logger">Where fetches and failures are logged; null for none.</param>
    public JsonWebKeySetCache(string name, Func<CancellationToken, ValueTask<Uri>> resolveAddress, HttpClient httpClient,
        JsonWebKeySetCacheOptions? options = null, ILogger? logger = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(resolveAddress);
        ArgumentNullException.ThrowIfNull(httpClient);
        options ??= new JsonWebKeySetCacheOptions();
        options.Validate();
        _name = name;
        _resolveAddress = resolveAddress;
        _httpClient = httpClient;
        _options = options;
        _time = options.TimeProvider;
        _logger = logger ?? NullLogger.Instance;
        _pipeline = CreatePipeline(options);
    }

    /// <summary>
    /// Raised after a good fetch whose key ids differ from those of the set held before it: the first set, a
    /// rotation or a withdrawal. Not raised by <see cref="AdoptKeySetFrom"/>. Handlers run on the fetching thread
    /// and must return quickly.
    /// </summary>
    public event Action? KeysChanged;

    /// <summary>The good key set held now; null before the first good fetch.</summary>
    public JsonWebKeySetSnapshot? Current => Volatile.Read(ref _current);

    /// <summary>The signing keys held now; empty before the first good fetch.</summary>
    public IReadOnlyList<SecurityKey> Keys => Current?.Keys ?? [];

    /// <summary>Why the last fetch failed; null once a fetch succeeded after it, and before any fetch.</summary>
    public string? LastFailure => Volatile.Read(ref _lastFailure);

    /// <summary>
    /// The key set to verify with now. Fetches it first when none is held, or when the held one is due for a
    /// refresh and <see cref="JsonWebKeySetCacheOptions.RefreshInBackground"/> is off; shares a fetch already
    /// running; fetches nothing during the pause after a failure.
    /// </summary>
    /// <param name="cancellationToken">Stops this caller's wait; the fetch itself goes on for the others.</param>
    /// <returns>The set held afterwards; null when there is none.</returns>
    public async ValueTask<JsonWebKeySetSnapshot?> GetCurrentAsync(CancellationToken cancellationToken)
    {
        var current = Current;
        if (current is not null && !IsDue(current))
        {
            return current;
        }

        var fetch = JoinOrStartFetch(unknownKeyId: false, out _);
        if (fetch is null || (current is not null && _options.RefreshInBackground))
        {
            return Current;
        }

        await fetch.WaitAsync(cancellationToken).ConfigureAwait(false);
        return Current;
    }

    /// <summary>The signing keys to verify with now; see <see cref="GetCurrentAsync"/>.</summary>
    /// <param name="cancellationToken">Stops this caller's wait.</param>
    /// <returns>The keys held afterwards; empty when there are none.</returns>
    public async ValueTask<IReadOnlyList<SecurityKey>> GetKeysAsync(CancellationToken cancellationToken)
        => (await GetCurrentAsync(cancellationToken).ConfigureAwait(false))?.Keys ?? [];

    /// <summary>
    /// The signing keys to verify a token naming <paramref name="keyId"/> with: as <see cref="GetKeysAsync(CancellationToken)"/>,
    /// then, when no held key has that id, <see cref="RefreshForUnknownKeyIdAsync"/>.
    /// </summary>
    /// <param name="keyId">The token's <c>kid</c>; null or empty asks for no refresh.</param>
    /// <param name="cancellationToken">Stops this caller's wait.</param>
    /// <returns>The keys held afterwards; empty when there are none.</returns>
    public async ValueTask<IReadOnlyList<SecurityKey>> GetKeysAsync(string? keyId, CancellationToken cancellationToken)
    {
        var current = await GetCurrentAsync(cancellationToken).ConfigureAwait(false);
        if (!string.IsNullOrEmpty(keyId) && current?.Contains(keyId) != true)
        {
            await RefreshForUnknownKeyIdAsync(keyId, cancellationToken).ConfigureAwait(false);
            current = Current;
        }

        return current?.Keys ?? [];
    }

    /// <summary>
    /// Fetches the set again because a token named a key id it lacks (the publisher may have rotated), unless a
    /// fetch for that reason started less than <see cref="JsonWebKeySetCacheOptions.UnknownKeyIdRefreshInterval"/>
    /// ago or the pause after a failure runs. A fetch already running is shared instead.
    /// </summary>
    /// <param name="keyId">The unverified key id; null when the verifier found no key for another reason.</param>
    /// <param name="cancellationToken">Stops this caller's wait.</param>
    /// <returns>True when a fetch ran and brought a good set, so the token is worth checking again.</returns>
    public async ValueTask<bool> RefreshForUnknownKeyIdAsync(string? keyId, CancellationToken cancellationToken)
    {
        if (!string.IsNullOrEmpty(keyId) && Current?.Contains(keyId) == true)
        {
            return false;
        }

        var fetch = JoinOrStartFetch(unknownKeyId: true, out var started);
        if (fetch is null)
        {
            return false;
        }

        if (started)
        {
            // The key id comes from an unverified token: a bounded prefix only.
            Log.RefreshingForUnknownKeyId(_logger, _name, keyId is null ? "(none)" : keyId.Length <= MaxLoggedKeyIdLength ? keyId : keyId[..MaxLoggedKeyIdLength]);
        }

        return await fetch.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Starts fetching in the background until a good set is held, retrying after each failure once its pause has
    /// passed, so a process started while the publisher is down becomes ready on its own. Returns at once; does
    /// nothing after the first call or once a set is held.
    /// </summary>
    public void StartWarmUp()
    {
        CancellationToken stopping;
        lock (_lock)
        {
            if (_warmUpStarted || _disposed || _current is not null)
            {
                return;
            }

            _warmUpStarted = true;
            stopping = _disposing.Token;
        }

        _ = Task.Run(() => WarmUpAsync(stopping), CancellationToken.None);
    }

    /// <summary>
    /// Takes over the set <paramref name="other"/> holds, fetch time included, when this cache holds none yet: a
    /// cache that replaces another for the same publisher (a policy reload) keeps its keys while the publisher is
    /// down. Raises no <see cref="KeysChanged"/>.
    /// </summary>
    /// <param name="other">The cache being replaced.</param>
    /// <returns>Whether a set was taken over.</returns>
    public bool AdoptKeySetFrom(JsonWebKeySetCache other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.Current is not { } held)
        {
            return false;
        }

        lock (_lock)
        {
            if (_current is not null)
            {
                return false;
            }

            Volatile.Write(ref _current, held);
            return true;
        }
    }

    /// <summary>Stops a running fetch and the warm-up; the keys held stay readable.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
        }

        _disposing.Cancel();
        _disposing.Dispose();
    }

    private static Func<CancellationToken, ValueTask<Uri>> FixedAddress(Uri address)
    {
        ArgumentNullException.ThrowIfNull(address);
        return _ => ValueTask.FromResult(address);
    }

    private static ResiliencePipeline CreatePipeline(JsonWebKeySetCacheOptions options)
    {
        var builder = new ResiliencePipelineBuilder { TimeProvider = options.TimeProvider }.AddTimeout(options.FetchTimeout);
        if (options.MaxRetryAttempts > 0)
        {
            builder.AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = options.MaxRetryAttempts,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.RetryDelay,
                ShouldHandle = new PredicateBuilder().Handle<Exception>(IsTransient),
            });
        }

        return builder.AddTimeout(options.AttemptTimeout).Build();
    }

    /// <summary>Failures another attempt may get past: the connection, the clock, and (when asked) server errors.</summary>
    private static bool IsTransient(Exception exception) => exception switch
    {
        KeySetRefusedException refused => refused.Transient,
        TimeoutRejectedException or HttpRequestException or IOException => true,
        TaskCanceledException { InnerException: TimeoutException } => true, // the HttpClient's own timeout
        _ => false,
    };

    private static bool IsServerError(HttpStatusCode status)
        => (int)status >= 500 || status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests;

    private bool IsDue(JsonWebKeySetSnapshot current) => _time.GetUtcNow() - current.FetchedAt >= _options.RefreshInterval;

    // The one place a fetch starts: shares the running one, else honours the pause after a failure and, for an
    // unknown key id, its own interval. Null when nothing runs and nothing may start.
    private Task<bool>? JoinOrStartFetch(bool unknownKeyId, out bool started)
    {
        started = false;
        lock (_lock)
        {
            if (_fetch is { IsCompleted: false } running)
            {
                return running;
            }

            var now = _time.GetUtcNow();
            if (_disposed || now < _noFetchBefore
                || (unknownKeyId && _lastUnknownKeyIdFetch is { } last && now - last < _options.UnknownKeyIdRefreshInterval)
                || (!unknownKeyId && _current is { } held && !IsDue(held)))
            {
                // The last clause: a fetch that ended since the caller looked brought a set that is not due yet.
                return null;
            }

            if (unknownKeyId)
            {
                _lastUnknownKeyIdFetch = now;
            }

            var stopping = _disposing.Token;
            var fetch = Task.Run(() => FetchOnceAsync(stopping), CancellationToken.None);
            _fetch = fetch;
            started = true;
            return fetch;
        }
    }

    private async Task WarmUpAsync(CancellationToken stopping)
    {
        try
        {
            while (Current is null && !stopping.IsCancellationRequested)
            {
                var fetch = JoinOrStartFetch(unknownKeyId: false, out _);
                if (fetch is not null)
                {
                    await fetch.ConfigureAwait(false);
                    continue;
                }

                TimeSpan pause;
                lock (_lock)
                {
                    pause = _noFetchBefore - _time.GetUtcNow();
                }

                await Task.Delay(pause > TimeSpan.Zero ? pause : TimeSpan.Zero, _time, stopping).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }

    private async Task<bool> FetchOnceAsync(CancellationToken stopping)
    {
        Uri? address = null;
        bool changed;
        JsonWebKeySetSnapshot fetched;
        try
        {
            address = await _resolveAddress(stopping).ConfigureAwait(false);
            CheckAddress(address);
            var body = await _pipeline.ExecuteAsync(
                static (state, token) => ReadBodyAsync(state.Client, state.Address, state.MaxBytes, state.RetryServerErrors, token),
                (Client: _httpClient, Address: address, MaxBytes: _options.MaxResponseBytes, _options.RetryServerErrors),
                stopping).ConfigureAwait(false);
            var (set, keys) = Parse(body, _options.KeyFilter);
            fetched = new JsonWebKeySetSnapshot(set, keys, address, _time.GetUtcNow());
            changed = Install(fetched);
        }
        catch (Exception ex) when (!stopping.IsCancellationRequested)
        {
            Fail(address, Describe(ex));
            return false;
        }
        catch (Exception)
        {
            return false; // disposed while fetching
        }

        if (changed)
        {
            Log.Changed(_logger, _name, fetched.Keys.Count, fetched.Address);
            KeysChanged?.Invoke();
        }
        else
        {
            Log.Fetched(_logger, _name, fetched.Keys.Count, fetched.Address);
        }

        return true;
    }

    private void CheckAddress(Uri address)
    {
        var allowed = address.IsAbsoluteUri
            && (address.Scheme == Uri.UriSchemeHttps || (!_options.RequireHttps && address.Scheme == Uri.UriSchemeHttp));
        if (!allowed)
        {
            throw new KeySetRefusedException($"the key set address must be an absolute {(_options.RequireHttps ? "https" : "http(s)")} URL: {address}");
        }
    }

    // Reads the answer while counting its bytes, so a body without Content-Length is cut off at the limit.
    private static async ValueTask<byte[]> ReadBodyAsync(HttpClient client, Uri address, long maxBytes, bool retryServerErrors, CancellationToken cancellationToken)
    {
        using var response = await client.GetAsync(address, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new KeySetRefusedException($"HTTP {(int)response.StatusCode}", retryServerErrors && IsServerError(response.StatusCode));
        }

        if (response.Content.Headers.ContentLength > maxBytes)
        {
            throw new KeySetRefusedException(TooLarge(maxBytes));
        }

        var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            using var body = new MemoryStream();
            var chunk = new byte[ReadChunkBytes];
            int read;
            while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (body.Length + read > maxBytes)
                {
                    throw new KeySetRefusedException(TooLarge(maxBytes));
                }

                body.Write(chunk, 0, read);
            }

            return body.ToArray();
        }
    }

    private static string TooLarge(long maxBytes) => $"the answer is larger than {maxBytes} bytes";

    private static (JsonWebKeySet Set, IReadOnlyList<SecurityKey> Keys) Parse(byte[] body, Func<JsonWebKey, bool>? keyFilter)
    {
        JsonWebKeySet set;
        try
        {
            set = new JsonWebKeySet(Encoding.UTF8.GetString(body));
        }
        catch (Exception ex) when (ex is ArgumentException or System.Text.Json.JsonException)
        {
            throw new KeySetRefusedException("not a JSON Web Key Set");
        }

        var usable = new JsonWebKeySet();
        foreach (var key in set.Keys)
        {
            if (keyFilter is null || keyFilter(key))
            {
                usable.Keys.Add(key);
            }
        }

        var keys = usable.GetSigningKeys().ToArray();
        if (keys.Length == 0)
        {
            // Installing an empty set would drop keys that still work: keep the last good ones.
            throw new KeySetRefusedException("no usable signing key in the set");
        }

        return (set, keys);
    }

    private bool Install(JsonWebKeySetSnapshot fetched)
    {
        lock (_lock)
        {
            var previous = _current;
            Volatile.Write(ref _current, fetched);
            Volatile.Write(ref _lastFailure, null);
            _failuresInARow = 0;
            _noFetchBefore = DateTimeOffset.MinValue;
            return previous is null || !string.Equals(previous.KeyIds, fetched.KeyIds, StringComparison.Ordinal);
        }
    }

    private void Fail(Uri? address, string reason)
    {
        int kept;
        lock (_lock)
        {
            _failuresInARow++;
            var pause = _options.RetryAfterFailure;
            for (var i = 1; i < _failuresInARow && pause < _options.MaxRetryAfterFailure; i++)
            {
                pause += pause;
            }

            _noFetchBefore = _time.GetUtcNow() + (pause < _options.MaxRetryAfterFailure ? pause : _options.MaxRetryAfterFailure);
            Volatile.Write(ref _lastFailure, reason);
            kept = _current?.Keys.Count ?? 0;
        }

        Log.FetchFailed(_logger, _name, address?.ToString() ?? "(address not found)", reason, kept);
    }

    private static string Describe(Exception exception)
    {
        switch (exception)
        {
            case KeySetRefusedException refused:
                return refused.Message;
            case TimeoutRejectedException:
                return "timed out";
        }

        // Wrapped transport errors say what actually happened in their innermost exception.
        var inner = exception;
        while (inner.InnerException is not null)
        {
            inner = inner.InnerException;
        }

        return inner.GetType().Name + ": " + inner.Message;
    }

    /// <summary>A fetch that got an answer the cache will not use, or an address it will not ask.</summary>
    private sealed class KeySetRefusedException(string reason, bool transient = false) : Exception(reason)
    {
        public bool Transient { get; } = transient;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = KeySetEventIds.Fetched, Level = LogLevel.Debug, Message = "Key set of {KeySet}: fetched {Count} signing key(s) from {Address}, the same key ids as before.")]
        public static partial void Fetched(ILogger logger, string keySet, int count, Uri address);

        [LoggerMessage(EventId = KeySetEventIds.Changed, Level = LogLevel.Information, Message = "Key set of {KeySet}: {Count} signing key(s) from {Address} are now in use.")]
        public static partial void Changed(ILogger logger, string keySet, int count, Uri address);

        [LoggerMessage(EventId = KeySetEventIds.FetchFailed, Level = LogLevel.Warning, Message = "Key set of {KeySet}: fetching {Address} failed ({Reason}); the {Count} key(s) fetched before stay in use.")]
        public static partial void FetchFailed(ILogger logger, string keySet, string address, string reason, int count);

        [LoggerMessage(EventId = KeySetEventIds.RefreshingForUnknownKeyId, Level = LogLevel.Information, Message = "Key set of {KeySet}: a token names unknown key id {KeyId}; fetching the set again.")]
        public static partial void RefreshingForUnknownKeyId(ILogger logger, string keySet, string keyId);
    }
}
