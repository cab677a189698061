using Microsoft.IdentityModel.Tokens;

namespace ZtGateway.Sources.Keys;

/// <summary>
/// Verification keys of one issuer from a JWKS file (read once) or a JWKS URI (fetched, cached, refreshed
/// periodically and on an unknown key id, but never more than once per <see cref="MinimumRefreshInterval"/>).
/// An unreachable URI leaves the cached keys in place: verification fails closed for unknown keys only.
/// </summary>
internal sealed partial class JwksKeySource : IDisposable
{
    public static readonly TimeSpan MinimumRefreshInterval = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan RefreshInterval = TimeSpan.FromMinutes(5);

    private readonly Uri? _uri;
    private readonly HttpClient? _http;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _fetch = new(1, 1);
    private volatile IReadOnlyList<SecurityKey> _keys = [];
    private DateTimeOffset _lastFetch = DateTimeOffset.MinValue;

    private JwksKeySource(Uri? uri, HttpClient? http, TimeProvider time, ILogger logger)
    {
        _uri = uri;
        _http = http;
        _time = time;
        _logger = logger;
    }

    /// <summary>Raised when a fetch brought a key set different from the one held (rotation or removal).</summary>
    public event Action? KeysChanged;

    public static JwksKeySource FromFile(string path, TimeProvider time, ILogger logger)
    {
        var source = new JwksKeySource(null, null, time, logger);
        try
        {
            source._keys = [.. new JsonWebKeySet(File.ReadAllText(path)).GetSigningKeys()];
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or System.Text.Json.JsonException)
        {
            Log.FileUnreadable(logger, path, ex.Message);
        }

        return source;
    }

    public static JwksKeySource FromUri(Uri uri, HttpMessageHandler? backchannel, TimeProvider time, ILogger logger)
    {
        var http = backchannel is null ? new HttpClient() : new HttpClient(backchannel, disposeHandler: false);
        http.Timeout = TimeSpan.FromSeconds(5);
        return new JwksKeySource(uri, http, time, logger);
    }

    /// <summary>The current keys; for a URI source, fetched first when stale or when <paramref name="keyId"/> is unknown.</summary>
    public async ValueTask<IReadOnlyList<SecurityKey>> GetKeysAsync(string? keyId, CancellationToken cancellationToken)
    {
        var keys = _keys;
        if (_uri is null)
        {
            return keys;
        }

        var now = _time.GetUtcNow();
        var unknownKid = keyId is not null && !Contains(keys, keyId);
        var stale = now - _lastFetch > RefreshInterval;
        if ((unknownKid || stale) && now - _lastFetch >= MinimumRefreshInterval)
        {
            await RefreshAsync(cancellationToken);
        }

        return _keys;
    }

    private async Task RefreshAsync(CancellationToken cancellationToken)
    {
        await _fetch.WaitAsync(cancellationToken);
        try
        {
            var now = _time.GetUtcNow();
            if (now - _lastFetch < MinimumRefreshInterval)
            {
                return;
            }

            _lastFetch = now;
            var json = await _http!.GetStringAsync(_uri, cancellationToken);
            var previous = _keys;
            _keys = [.. new JsonWebKeySet(json).GetSigningKeys()];
            if (!SameKeyIds(previous, _keys))
            {
                KeysChanged?.Invoke();
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or ArgumentException or System.Text.Json.JsonException)
        {
            Log.FetchFailed(_logger, _uri!, ex.Message);
        }
        finally
        {
            _fetch.Release();
        }
    }

    private static bool SameKeyIds(IReadOnlyList<SecurityKey> a, IReadOnlyList<SecurityKey> b)
    {
        if (a.Count != b.Count)
        {
            return false;
        }

        for (var i = 0; i < a.Count; i++)
        {
            if (!Contains(b, a[i].KeyId ?? string.Empty))
            {
                return false;
            }
        }

        return true;
    }

    private static bool Contains(IReadOnlyList<SecurityKey> keys, string keyId)
    {
        for (var i = 0; i < keys.Count; i++)
        {
            if (string.Equals(keys[i].KeyId, keyId, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    public void Dispose()
    {
        _http?.Dispose();
        _fetch.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 300, Level = LogLevel.Error, Message = "JWKS file {Path} is unreadable ({Error}); every assertion of this issuer is refused")]
        public static partial void FileUnreadable(ILogger logger, string path, string error);

        [LoggerMessage(EventId = 301, Level = LogLevel.Warning, Message = "Fetching JWKS {Uri} failed ({Error}); keeping the cached keys")]
        public static partial void FetchFailed(ILogger logger, Uri uri, string error);
    }
}
