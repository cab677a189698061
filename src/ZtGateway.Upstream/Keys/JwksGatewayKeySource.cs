using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.Tokens;
using ZtGateway.KeySets;

namespace ZtGateway.Upstream.Keys;

/// <summary>
/// The gateway's JWKS, held by a <see cref="JsonWebKeySetCache"/>: fetched on use once it is older than the
/// refresh interval, and on an unknown key id at most once every <see cref="UnknownKeyRefreshGap"/>. A failed
/// fetch keeps the last good keys, and no fetch follows it for <see cref="FailedFetchRetryGap"/>.
/// </summary>
internal sealed class JwksGatewayKeySource : IGatewayKeySource, IDisposable
{
    /// <summary>Bounds how often tokens with made-up key ids can make this service call the gateway.</summary>
    public static readonly TimeSpan UnknownKeyRefreshGap = TimeSpan.FromSeconds(30);

    /// <summary>Spacing of retries after a failed fetch, so a gateway outage is not amplified.</summary>
    public static readonly TimeSpan FailedFetchRetryGap = TimeSpan.FromSeconds(5);

    private const long MaxJwksBytes = 256 * 1024;
    private static readonly TimeSpan FetchTimeout = TimeSpan.FromSeconds(10);

    private readonly HttpClient _http;
    private readonly JsonWebKeySetCache _cache;

    public JwksGatewayKeySource(ZtGatewayAssertionOptions options, ILogger<JwksGatewayKeySource> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        var jwksUri = options.JwksUri ?? throw new ArgumentException("JwksUri is required.", nameof(options));
        _http = options.BackchannelHandler is { } handler
            ? new HttpClient(handler, disposeHandler: false)
            : new HttpClient();
        _cache = new JsonWebKeySetCache("gateway assertion keys", jwksUri, _http, new JsonWebKeySetCacheOptions
        {
            RefreshInterval = options.JwksRefreshInterval,
            UnknownKeyIdRefreshInterval = UnknownKeyRefreshGap,
            RetryAfterFailure = FailedFetchRetryGap,
            MaxRetryAfterFailure = FailedFetchRetryGap,
            MaxResponseBytes = MaxJwksBytes,
            FetchTimeout = FetchTimeout,
            AttemptTimeout = FetchTimeout,
            RequireHttps = false,
            KeyFilter = IsEs256VerificationKey,
            TimeProvider = options.TimeProvider,
        }, logger);
    }

    public ValueTask<IReadOnlyList<SecurityKey>> GetKeysAsync(CancellationToken cancellationToken) => _cache.GetKeysAsync(cancellationToken);

    public async ValueTask<IReadOnlyList<SecurityKey>> RefreshForUnknownKeyAsync(string keyId, CancellationToken cancellationToken)
    {
        await _cache.RefreshForUnknownKeyIdAsync(keyId, cancellationToken).ConfigureAwait(false);
        return _cache.Keys;
    }

    public void Dispose()
    {
        _cache.Dispose();
        _http.Dispose();
    }

    /// <summary>Keeps only keys that can verify ES256, so a stray symmetric or RSA key can never be used.</summary>
    private static bool IsEs256VerificationKey(JsonWebKey key)
    {
        var isEcP256 = key.Kty == JsonWebAlgorithmsKeyTypes.EllipticCurve && key.Crv == JsonWebKeyECTypes.P256;
        var isForSigning = string.IsNullOrEmpty(key.Use) || key.Use == JsonWebKeyUseNames.Sig;
        var algorithmFits = string.IsNullOrEmpty(key.Alg) || key.Alg == SecurityAlgorithms.EcdsaSha256;
        return isEcP256 && isForSigning && algorithmFits && !string.IsNullOrEmpty(key.X) && !string.IsNullOrEmpty(key.Y);
    }
}
