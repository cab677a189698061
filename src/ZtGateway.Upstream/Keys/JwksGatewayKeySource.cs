using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.Tokens;

namespace ZtGateway.Upstream.Keys;

/// <summary>
/// Fetches the gateway's JWKS and caches it. The cache is refreshed on use once it is older than the
/// refresh interval, and on an unknown key id at most once every <see cref="UnknownKeyRefreshGap"/>.
/// A failed fetch keeps the last good keys.
/// </summary>
internal sealed partial class JwksGatewayKeySource : IGatewayKeySource, IDisposable
{
    /// <summary>Bounds how often tokens with made-up key ids can make this service call the gateway.</summary>
    public static readonly TimeSpan UnknownKeyRefreshGap = TimeSpan.FromSeconds(30);

    /// <summary>Spacing of retries after a failed fetch, so a gateway outage is not amplified.</summary>
    public static readonly TimeSpan FailedFetchRetryGap = TimeSpan.FromSeconds(5);

    private const long MaxJwksBytes = 256 * 1024;
    private static readonly TimeSpan FetchTimeout = TimeSpan.FromSeconds(10);

    private readonly Uri _jwksUri;
    private readonly TimeSpan _refreshInterval;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly HttpClient _http;
    private readonly SemaphoreSlim _gate = new(1, 1);

    private KeySnapshot? _snapshot;
    private DateTimeOffset? _lastFailedFetch;
    private DateTimeOffset? _lastUnknownKeyRefresh;

    public JwksGatewayKeySource(ZtGatewayAssertionOptions options, ILogger<JwksGatewayKeySource> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        _jwksUri = options.JwksUri ?? throw new ArgumentException("JwksUri is required.", nameof(options));
        _refreshInterval = options.JwksRefreshInterval;
        _time = options.TimeProvider;
        _logger = logger;
        _http = options.BackchannelHandler is { } handler
            ? new HttpClient(handler, disposeHandler: false)
            : new HttpClient();
        _http.Timeout = FetchTimeout;
        _http.MaxResponseContentBufferSize = MaxJwksBytes;
    }

    public async ValueTask<IReadOnlyList<SecurityKey>> GetKeysAsync(CancellationToken cancellationToken)
    {
        var snapshot = Volatile.Read(ref _snapshot);
        if (snapshot is not null && !IsDue(snapshot))
        {
            return snapshot.Keys;
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            snapshot = _snapshot;
            if (snapshot is not null && !IsDue(snapshot))
            {
                return snapshot.Keys;
            }

            if (_lastFailedFetch is { } failedAt && _time.GetUtcNow() - failedAt < FailedFetchRetryGap)
            {
                return snapshot?.Keys ?? [];
            }

            return await FetchAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask<IReadOnlyList<SecurityKey>> RefreshForUnknownKeyAsync(string keyId, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var snapshot = _snapshot;
            if (snapshot is not null && snapshot.Contains(keyId))
            {
                return snapshot.Keys;
            }

            // A fetch that just failed will not succeed now; that includes one made for this same request.
            var now = _time.GetUtcNow();
            var recentlyFailed = _lastFailedFetch is { } failedAt && now - failedAt < FailedFetchRetryGap;
            if (recentlyFailed || (_lastUnknownKeyRefresh is { } last && now - last < UnknownKeyRefreshGap))
            {
                return snapshot?.Keys ?? [];
            }

            _lastUnknownKeyRefresh = now;
            // The key id comes from an unverified token: log a bounded prefix only.
            Log.RefreshingForUnknownKey(_logger, keyId.Length <= 64 ? keyId : keyId[..64]);
            return await FetchAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose()
    {
        _http.Dispose();
        _gate.Dispose();
    }

    private bool IsDue(KeySnapshot snapshot) => _time.GetUtcNow() - snapshot.FetchedAt >= _refreshInterval;

    /// <summary>Fetches and installs the key set; on failure logs and returns the previous keys. Callers hold the gate.</summary>
    private async Task<IReadOnlyList<SecurityKey>> FetchAsync(CancellationToken cancellationToken)
    {
        var previous = _snapshot?.Keys ?? [];
        List<SecurityKey> keys;
        try
        {
            using var response = await _http.GetAsync(_jwksUri, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                return Failed(previous, $"HTTP {(int)response.StatusCode}");
            }

            var json = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            keys = SelectVerificationKeys(new JsonWebKeySet(json));
        }
        catch (HttpRequestException ex)
        {
            return Failed(previous, ex.Message);
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return Failed(previous, "timed out");
        }
        catch (Exception ex) when (ex is ArgumentException or JsonException)
        {
            return Failed(previous, "not a JSON Web Key Set");
        }

        if (keys.Count == 0)
        {
            return Failed(previous, "no EC P-256 signing key in the set");
        }

        Volatile.Write(ref _snapshot, new KeySnapshot(keys, _time.GetUtcNow()));
        _lastFailedFetch = null;
        Log.KeysFetched(_logger, keys.Count, _jwksUri);
        return keys;
    }

    private IReadOnlyList<SecurityKey> Failed(IReadOnlyList<SecurityKey> previous, string reason)
    {
        _lastFailedFetch = _time.GetUtcNow();
        Log.FetchFailed(_logger, _jwksUri, reason, previous.Count);
        return previous;
    }

    /// <summary>Keeps only keys that can verify ES256, so a stray symmetric or RSA key can never be used.</summary>
    private static List<SecurityKey> SelectVerificationKeys(JsonWebKeySet set)
    {
        var keys = new List<SecurityKey>();
        foreach (var key in set.Keys)
        {
            var isEcP256 = key.Kty == JsonWebAlgorithmsKeyTypes.EllipticCurve && key.Crv == JsonWebKeyECTypes.P256;
            var isForSigning = string.IsNullOrEmpty(key.Use) || key.Use == JsonWebKeyUseNames.Sig;
            var algorithmFits = string.IsNullOrEmpty(key.Alg) || key.Alg == SecurityAlgorithms.EcdsaSha256;
            if (isEcP256 && isForSigning && algorithmFits && !string.IsNullOrEmpty(key.X) && !string.IsNullOrEmpty(key.Y))
            {
                keys.Add(key);
            }
        }

        return keys;
    }

    private sealed record KeySnapshot(IReadOnlyList<SecurityKey> Keys, DateTimeOffset FetchedAt)
    {
        public bool Contains(string keyId) => Keys.Any(key => string.Equals(key.KeyId, keyId, StringComparison.Ordinal));
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = UpstreamEventIds.KeysFetched, Level = LogLevel.Information, Message = "Fetched {Count} gateway signing key(s) from {JwksUri}.")]
        public static partial void KeysFetched(ILogger logger, int count, Uri jwksUri);

        [LoggerMessage(EventId = UpstreamEventIds.KeysFetchFailed, Level = LogLevel.Warning, Message = "Could not fetch gateway keys from {JwksUri}: {Reason}. Keeping {Count} previously fetched key(s).")]
        public static partial void FetchFailed(ILogger logger, Uri jwksUri, string reason, int count);

        [LoggerMessage(EventId = UpstreamEventIds.RefreshingForUnknownKey, Level = LogLevel.Information, Message = "An assertion names unknown key id {KeyId}; fetching the gateway keys again.")]
        public static partial void RefreshingForUnknownKey(ILogger logger, string keyId);
    }
}
