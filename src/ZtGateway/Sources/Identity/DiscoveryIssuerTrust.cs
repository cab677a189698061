using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;
using ZtGateway.KeySets;

namespace ZtGateway.Sources.Identity;

/// <summary>
/// An issuer whose keys come from OpenID Connect discovery at <c>{authority}/.well-known/openid-configuration</c>:
/// both <c>type: oidc</c> and <c>type: entra</c> (which only differ in how the authority and accepted
/// issuers are derived). Metadata failures and timeouts refuse the token; they never escape as exceptions.
/// Once keys are loaded they stay in use while the provider is unreachable, and the issuer recovers by
/// itself once the provider answers again.
/// </summary>
/// <remarks>
/// The key set is held by a <see cref="JsonWebKeySetCache"/>, which reads the discovery document (through
/// <see cref="MetadataResilience"/>) before every fetch of its <c>jwks_uri</c>: the cache's refresh, unknown-<c>kid</c>
/// throttle, last-good fallback, size cap and resilience pipeline are the ones every fetched key set of the
/// gateway has, with the timings below, all on the injected <see cref="TimeProvider"/>.
/// </remarks>
internal sealed partial class DiscoveryIssuerTrust : IssuerTrust
{
    /// <summary>How long a request may wait for metadata.</summary>
    public static readonly TimeSpan FetchTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Least time between two key refreshes caused by unknown <c>kid</c> values.</summary>
    public static readonly TimeSpan KeyRefreshInterval = TimeSpan.FromSeconds(30);

    /// <summary>
    /// After a failed fetch, requests fail fast for this long (doubling while failures go on, up to
    /// <see cref="MaxWarmUpPause"/>) instead of each queueing for a provider that is down.
    /// </summary>
    public static readonly TimeSpan RetryAfterFailure = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Keys are read again in the background this long after the last successful fetch, so a key the
    /// provider withdrew stops verifying even if no unknown <c>kid</c> ever arrives. Shorter than
    /// IdentityModel's 12 hours: a withdrawn key is often a compromised one.
    /// </summary>
    public static readonly TimeSpan AutomaticRefreshInterval = TimeSpan.FromHours(1);

    /// <summary>Longest pause between two attempts after failures in a row (the background warm-up's among them).</summary>
    public static readonly TimeSpan MaxWarmUpPause = TimeSpan.FromSeconds(30);

    private readonly MetadataDocumentRetriever _retriever;
    private readonly JsonWebKeySetCache _keys;
    private readonly IssuerSigningKeyValidatorUsingConfiguration? _signingKeyCheck;
    private readonly string _authority;
    private readonly IReadOnlyList<string> _validIssuers;
    private readonly IReadOnlyList<string> _audiences;
    private readonly TimeSpan _clockSkew;
    private readonly bool _requireHttpsMetadata;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;

    // The last discovery document read (JSON), and the parameters built from it and the key set held.
    private string? _document;
    private CachedSnapshot? _current;

    // 1 once a key set was held (fetched or taken over): from then on a new set is a change.
    private int _heldKeys;

    /// <summary>Creates the trust; nothing is fetched until <see cref="StartWarmUp"/> or the first token.</summary>
    /// <param name="name">The configured issuer name.</param>
    /// <param name="authority">The authority; the expected <c>iss</c>.</param>
    /// <param name="selectingIssuers"><c>iss</c> values that route a token here.</param>
    /// <param name="validIssuers"><c>iss</c> values accepted besides a discovery <c>issuer</c> equal to the authority.</param>
    /// <param name="audiences">Accepted <c>aud</c> values.</param>
    /// <param name="requireHttpsMetadata">Refuse metadata and keys over plain HTTP.</param>
    /// <param name="httpClient">Backchannel client of the discovery document and the key set.</param>
    /// <param name="clockSkew">Lifetime tolerance.</param>
    /// <param name="timeProvider">Clock for lifetimes, refresh pacing, the key set's resilience and the circuit breaker.</param>
    /// <param name="logger">Where metadata problems are reported.</param>
    /// <param name="signingKeyCheck">
    /// Extra check of the key that verified a token, called with the metadata the key came from; throws or
    /// returns false to refuse the token. Null for none.
    /// </param>
    public DiscoveryIssuerTrust(
        string name,
        string authority,
        IReadOnlyList<string> selectingIssuers,
        IReadOnlyList<string> validIssuers,
        IReadOnlyList<string> audiences,
        bool requireHttpsMetadata,
        HttpClient httpClient,
        TimeSpan clockSkew,
        TimeProvider timeProvider,
        ILogger logger,
        IssuerSigningKeyValidatorUsingConfiguration? signingKeyCheck = null)
        : base(name)
    {
        _authority = authority;
        SelectingIssuers = selectingIssuers;
        _validIssuers = validIssuers;
        _audiences = audiences;
        _clockSkew = clockSkew;
        _requireHttpsMetadata = requireHttpsMetadata;
        _timeProvider = timeProvider;
        _logger = logger;
        _signingKeyCheck = signingKeyCheck;
        MetadataAddress = authority.TrimEnd('/') + "/.well-known/openid-configuration";
        _retriever = new MetadataDocumentRetriever(httpClient, MetadataResilience.Create(timeProvider), requireHttpsMetadata);
        _keys = new JsonWebKeySetCache("issuer " + name, ReadKeySetAddressAsync, httpClient, new JsonWebKeySetCacheOptions
        {
            RefreshInterval = AutomaticRefreshInterval,
            RefreshInBackground = true,
            UnknownKeyIdRefreshInterval = KeyRefreshInterval,
            RetryAfterFailure = RetryAfterFailure,
            MaxRetryAfterFailure = MaxWarmUpPause,
            MaxResponseBytes = TokenValidator.MaxMetadataBytes,
            RequireHttps = requireHttpsMetadata,
            FetchTimeout = MetadataResilience.TotalTimeout,
            AttemptTimeout = MetadataResilience.AttemptTimeout,
            MaxRetryAttempts = MetadataResilience.MaxRetryAttempts,
            RetryDelay = MetadataResilience.RetryDelay,
            RetryServerErrors = true,
            TimeProvider = timeProvider,
        }, logger);
        _keys.KeysChanged += () =>
        {
            // The first key set is no change for token caches: nothing was verified before it.
            if (Interlocked.Exchange(ref _heldKeys, 1) == 1)
            {
                OnSigningKeysChanged();
            }
        };
    }

    /// <summary>Where discovery is read from.</summary>
    public string MetadataAddress { get; }

    /// <inheritdoc />
    public override IReadOnlyList<string> SelectingIssuers { get; }

    /// <inheritdoc />
    public override IssuerReadiness Readiness
    {
        get
        {
            if (_keys.Current is { } held)
            {
                return new IssuerReadiness(Name, true, $"{held.Keys.Count} signing key(s) from {MetadataAddress}");
            }

            return _keys.LastFailure is { } failure
                ? new IssuerReadiness(Name, false, "metadata unavailable: " + failure)
                : new IssuerReadiness(Name, false, "metadata not fetched yet from " + MetadataAddress);
        }
    }

    /// <inheritdoc />
    public override async ValueTask<TrustSnapshot> GetSnapshotAsync(CancellationToken cancellationToken)
    {
        if (_keys.Current is not null)
        {
            // Refreshes in the background once due; the set held is returned at once.
            var held = await _keys.GetCurrentAsync(cancellationToken).ConfigureAwait(false);
            return Snapshot(held!);
        }

        return await BootstrapAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override async ValueTask<OpenIdConnectConfiguration?> GetProviderConfigurationAsync(CancellationToken cancellationToken)
    {
        var snapshot = await GetSnapshotAsync(cancellationToken).ConfigureAwait(false);
        return snapshot.Parameters is null || Volatile.Read(ref _current) is not { } built || !ReferenceEquals(built.Snapshot, snapshot)
            ? null
            : built.Configuration;
    }

    /// <inheritdoc />
    public override async ValueTask<bool> RefreshSigningKeysAsync(CancellationToken cancellationToken)
    {
        if (_keys.Current is null)
        {
            return false;
        }

        try
        {
            var refreshed = await _keys.RefreshForUnknownKeyIdAsync(keyId: null, cancellationToken).AsTask()
                .WaitAsync(FetchTimeout, cancellationToken).ConfigureAwait(false);
            if (refreshed)
            {
                Log.SigningKeysRefreshed(_logger, Name);
            }

            return refreshed;
        }
        catch (TimeoutException)
        {
            Log.MetadataUnavailable(_logger, Name, MetadataAddress, "key refresh timed out");
            return false;
        }
    }

    /// <inheritdoc />
    public override void StartWarmUp() => _keys.StartWarmUp();

    /// <inheritdoc />
    public override void AdoptKeysFrom(IssuerTrust previous)
    {
        if (previous is DiscoveryIssuerTrust other
            && string.Equals(other.MetadataAddress, MetadataAddress, StringComparison.Ordinal)
            && other._requireHttpsMetadata == _requireHttpsMetadata
            && Volatile.Read(ref other._document) is { } document)
        {
            // Parameters are rebuilt with this policy's issuers and audiences; only the provider's document and keys carry over.
            Interlocked.CompareExchange(ref _document, document, null);
            if (_keys.AdoptKeySetFrom(other._keys))
            {
                Volatile.Write(ref _heldKeys, 1);
            }
        }
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _keys.Dispose();
        }

        base.Dispose(disposing);
    }

    private async ValueTask<TrustSnapshot> BootstrapAsync(CancellationToken cancellationToken)
    {
        JsonWebKeySetSnapshot? held;
        try
        {
            held = await _keys.GetCurrentAsync(cancellationToken).AsTask().WaitAsync(FetchTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            Log.MetadataUnavailable(_logger, Name, MetadataAddress, "timed out");
            return TrustSnapshot.Refuse("issuer metadata fetch timed out");
        }

        return held is not null
            ? Snapshot(held)
            : TrustSnapshot.Refuse("issuer metadata unavailable: " + (_keys.LastFailure ?? "unknown error"));
    }

    // Before every key set fetch: the discovery document names where the keys are.
    private async ValueTask<Uri> ReadKeySetAddressAsync(CancellationToken cancellationToken)
    {
        var document = await _retriever.GetDocumentAsync(MetadataAddress, cancellationToken).ConfigureAwait(false);
        var jwksUri = OpenIdConnectConfiguration.Create(document).JwksUri;
        if (!Uri.TryCreate(jwksUri, UriKind.Absolute, out var address))
        {
            throw new InvalidDataException("the discovery document names no absolute jwks_uri");
        }

        Volatile.Write(ref _document, document);
        return address;
    }

    // The parameters of the set held, built once per fetched set (and discovery document).
    private TrustSnapshot Snapshot(JsonWebKeySetSnapshot held)
    {
        var document = Volatile.Read(ref _document);
        if (Volatile.Read(ref _current) is { } built && ReferenceEquals(built.KeySet, held) && ReferenceEquals(built.Document, document))
        {
            return built.Snapshot;
        }

        var configuration = document is null ? new OpenIdConnectConfiguration() : OpenIdConnectConfiguration.Create(document);
        configuration.JsonWebKeySet = held.KeySet;
        foreach (var key in held.Keys)
        {
            configuration.SigningKeys.Add(key);
        }

        var issuers = new List<string>(_validIssuers);
        var advertised = configuration.Issuer;
        if (!string.IsNullOrEmpty(advertised)
            && string.Equals(advertised.TrimEnd('/'), _authority.TrimEnd('/'), StringComparison.Ordinal)
            && !issuers.Contains(advertised, StringComparer.Ordinal))
        {
            issuers.Add(advertised);
        }

        var parameters = ValidationParametersFactory.Create(issuers, _audiences, held.Keys, _clockSkew, _timeProvider);
        if (_signingKeyCheck is { } check)
        {
            // Keys come from explicit parameters, so IdentityModel passes no configuration: hand over this one.
            parameters.IssuerSigningKeyValidatorUsingConfiguration = (key, token, tvp, _) => check(key, token, tvp, configuration);
        }

        var snapshot = new TrustSnapshot(parameters, null);
        Volatile.Write(ref _current, new CachedSnapshot(held, document, snapshot, configuration));
        return snapshot;
    }

    private sealed record CachedSnapshot(JsonWebKeySetSnapshot KeySet, string? Document, TrustSnapshot Snapshot, OpenIdConnectConfiguration Configuration);

    private static partial class Log
    {
        [LoggerMessage(IdentityEventIds.MetadataUnavailable, LogLevel.Warning, "Issuer {Issuer}: metadata from {Address} unavailable ({Reason}); tokens are checked against the keys already loaded, if any.")]
        public static partial void MetadataUnavailable(ILogger logger, string issuer, string address, string reason);

        [LoggerMessage(IdentityEventIds.SigningKeysRefreshed, LogLevel.Information, "Issuer {Issuer}: signing keys refreshed after an unknown key id.")]
        public static partial void SigningKeysRefreshed(ILogger logger, string issuer);
    }
}
