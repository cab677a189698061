using Microsoft.IdentityModel.Tokens;
using ZtGateway.KeySets;

namespace ZtGateway.Sources.Keys;

/// <summary>
/// Verification keys of one posture issuer or signal transmitter: a JWKS file (read once) or a JWKS URI, held by
/// a <see cref="JsonWebKeySetCache"/> (refreshed every <see cref="RefreshInterval"/>, on an unknown key id at
/// most once per <see cref="MinimumRefreshInterval"/>, and not for <see cref="MinimumRefreshInterval"/> after a
/// failed fetch). An unreachable URI leaves the cached keys in place: verification fails closed for unknown keys only.
/// </summary>
internal sealed partial class JwksKeySource : IDisposable
{
    public static readonly TimeSpan MinimumRefreshInterval = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan FetchTimeout = TimeSpan.FromSeconds(5);

    private readonly IReadOnlyList<SecurityKey> _fileKeys;
    private readonly JsonWebKeySetCache? _cache;
    private readonly HttpClient? _http;

    private JwksKeySource(IReadOnlyList<SecurityKey> fileKeys, JsonWebKeySetCache? cache, HttpClient? http)
    {
        _fileKeys = fileKeys;
        _cache = cache;
        _http = http;
        if (cache is not null)
        {
            cache.KeysChanged += () => KeysChanged?.Invoke();
        }
    }

    /// <summary>Raised when a fetch brought a key set different from the one held (the first set, rotation or removal).</summary>
    public event Action? KeysChanged;

    public static JwksKeySource FromFile(string path, TimeProvider time, ILogger logger)
    {
        IReadOnlyList<SecurityKey> keys = [];
        try
        {
            keys = [.. new JsonWebKeySet(File.ReadAllText(path)).GetSigningKeys()];
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or System.Text.Json.JsonException)
        {
            Log.FileUnreadable(logger, path, ex.Message);
        }

        return new JwksKeySource(keys, null, null);
    }

    /// <param name="name">What the keys are, for log messages (for example <c>device issuer https://mdm.example</c>).</param>
    /// <param name="uri">The JWKS URI; plain http is allowed, as the configuration allows it.</param>
    /// <param name="backchannel">The handler of the gateway's requests; a default one when null.</param>
    /// <param name="time">Clock of refresh pacing and fetch timeouts.</param>
    /// <param name="logger">Where fetch failures are logged.</param>
    public static JwksKeySource FromUri(string name, Uri uri, HttpMessageHandler? backchannel, TimeProvider time, ILogger logger)
    {
        var http = backchannel is null ? new HttpClient() : new HttpClient(backchannel, disposeHandler: false);
        var cache = new JsonWebKeySetCache(name, uri, http, new JsonWebKeySetCacheOptions
        {
            RefreshInterval = RefreshInterval,
            UnknownKeyIdRefreshInterval = MinimumRefreshInterval,
            RetryAfterFailure = MinimumRefreshInterval,
            MaxRetryAfterFailure = MinimumRefreshInterval,
            FetchTimeout = FetchTimeout,
            AttemptTimeout = FetchTimeout,
            RequireHttps = false,
            TimeProvider = time,
        }, logger);
        return new JwksKeySource([], cache, http);
    }

    /// <summary>The current keys; for a URI source, fetched first when stale or when <paramref name="keyId"/> is unknown.</summary>
    public ValueTask<IReadOnlyList<SecurityKey>> GetKeysAsync(string? keyId, CancellationToken cancellationToken)
        => _cache is null ? ValueTask.FromResult(_fileKeys) : _cache.GetKeysAsync(keyId, cancellationToken);

    public void Dispose()
    {
        _cache?.Dispose();
        _http?.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 300, Level = LogLevel.Error, Message = "JWKS file {Path} is unreadable ({Error}); every assertion of this issuer is refused")]
        public static partial void FileUnreadable(ILogger logger, string path, string error);
    }
}
