using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace ZtGateway.Sources.Identity;

/// <summary>
/// An issuer whose keys come from OpenID Connect discovery at <c>{authority}/.well-known/openid-configuration</c>:
/// both <c>type: oidc</c> and <c>type: entra</c> (which only differ in how the authority and accepted
/// issuers are derived). Metadata failures and timeouts refuse the token; they never escape as exceptions.
/// Once keys are loaded they stay in use while the provider is unreachable, and the issuer recovers by
/// itself once the provider answers again.
/// </summary>
/// <remarks>
/// Refresh pacing runs on the injected <see cref="TimeProvider"/> (IdentityModel's ConfigurationManager
/// keeps its own clock), and every request goes through <see cref="MetadataResilience"/>.
/// </remarks>
internal sealed partial class DiscoveryIssuerTrust : IssuerTrust
{
    /// <summary>How long a request may wait for metadata.</summary>
    public static readonly TimeSpan FetchTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Least time between two key refreshes caused by unknown <c>kid</c> values.</summary>
    public static readonly TimeSpan KeyRefreshInterval = TimeSpan.FromSeconds(30);

    /// <summary>
    /// After a failed first fetch, requests fail fast for this long instead of each queueing for a
    /// provider that is down.
    /// </summary>
    public static readonly TimeSpan RetryAfterFailure = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Keys are read again in the background this long after the last successful fetch, so a key the
    /// provider withdrew stops verifying even if no unknown <c>kid</c> ever arrives. Shorter than
    /// IdentityModel's 12 hours: a withdrawn key is often a compromised one.
    /// </summary>
    public static readonly TimeSpan AutomaticRefreshInterval = TimeSpan.FromHours(1);

    /// <summary>Longest pause between two background attempts while no keys were ever loaded.</summary>
    public static readonly TimeSpan MaxWarmUpPause = TimeSpan.FromSeconds(30);

    private readonly IDocumentRetriever _retriever;
    private readonly IssuerSigningKeyValidatorUsingConfiguration? _signingKeyCheck;
    private readonly Lock _fetchLock = new();
    private readonly CancellationTokenSource _disposing = new();
    private readonly string _authority;
    private readonly IReadOnlyList<string> _validIssuers;
    private readonly IReadOnlyList<string> _audiences;
    private readonly TimeSpan _clockSkew;
    private readonly bool _requireHttpsMetadata;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private Task<bool>? _fetch;
    private bool _warmUpStarted;
    private CachedSnapshot? _current;
    private string? _keyIds;
    private string? _lastFailure;
    private long _retryAfterTicks;
    private long _lastKeyRefreshTicks = long.MinValue;
    private long _nextAutomaticRefreshTicks = long.MaxValue;

    /// <summary>Creates the trust; nothing is fetched until <see cref="StartWarmUp"/> or the first token.</summary>
    /// <param name="name">The configured issuer name.</param>
    /// <param name="authority">The authority; the expected <c>iss</c>.</param>
    /// <param name="selectingIssuers"><c>iss</c> values that route a token here.</param>
    /// <param name="validIssuers"><c>iss</c> values accepted besides a discovery <c>issuer</c> equal to the authority.</param>
    /// <param name="audiences">Accepted <c>aud</c> values.</param>
    /// <param name="requireHttpsMetadata">Refuse metadata over plain HTTP.</param>
    /// <param name="httpClient">Backchannel client; its timeout bounds each attempt.</param>
    /// <param name="clockSkew">Lifetime tolerance.</param>
    /// <param name="timeProvider">Clock for lifetimes, refresh pacing and the circuit breaker.</param>
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
            if (Volatile.Read(ref _current) is { } current)
            {
                return new IssuerReadiness(Name, true, $"{current.KeyCount} signing key(s) from {MetadataAddress}");
            }

            return Volatile.Read(ref _lastFailure) is { } failure
                ? new IssuerReadiness(Name, false, "metadata unavailable: " + failure)
                : new IssuerReadiness(Name, false, "metadata not fetched yet from " + MetadataAddress);
        }
    }

    /// <inheritdoc />
    public override async ValueTask<TrustSnapshot> GetSnapshotAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _current) is { } current)
        {
            RefreshInBackgroundWhenDue();
            return current.Snapshot;
        }

        return await BootstrapAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override async ValueTask<bool> RefreshSigningKeysAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _current) is null)
        {
            return false;
        }

        var now = _timeProvider.GetUtcNow().UtcTicks;
        var last = Interlocked.Read(ref _lastKeyRefreshTicks);
        if (last != long.MinValue && now - last < KeyRefreshInterval.Ticks)
        {
            return false;
        }

        if (Interlocked.CompareExchange(ref _lastKeyRefreshTicks, now, last) != last)
        {
            return false; // another request is already refreshing
        }

        try
        {
            var refreshed = await FetchAsync().WaitAsync(FetchTimeout, cancellationToken).ConfigureAwait(false);
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
    public override void StartWarmUp()
    {
        lock (_fetchLock)
        {
            if (_warmUpStarted)
            {
                return;
            }

            _warmUpStarted = true;
        }

        var stopping = _disposing.Token;
        _ = Task.Run(() => WarmUpAsync(stopping), CancellationToken.None);
    }

    /// <inheritdoc />
    public override void AdoptKeysFrom(IssuerTrust previous)
    {
        if (previous is DiscoveryIssuerTrust other
            && string.Equals(other.MetadataAddress, MetadataAddress, StringComparison.Ordinal)
            && other._requireHttpsMetadata == _requireHttpsMetadata
            && Volatile.Read(ref other._current) is { } held
            && Volatile.Read(ref _current) is null)
        {
            // Parameters are rebuilt with this policy's issuers and audiences; only the provider's keys carry over.
            Install(held.Configuration, held.FetchedAt);
        }
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _disposing.Cancel();
            _disposing.Dispose();
        }

        base.Dispose(disposing);
    }

    private async ValueTask<TrustSnapshot> BootstrapAsync(CancellationToken cancellationToken)
    {
        if (InRetryPause())
        {
            return TrustSnapshot.Refuse("issuer metadata unavailable");
        }

        try
        {
            await FetchAsync().WaitAsync(FetchTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            PauseRetries();
            Log.MetadataUnavailable(_logger, Name, MetadataAddress, "timed out");
            return TrustSnapshot.Refuse("issuer metadata fetch timed out");
        }

        return Volatile.Read(ref _current) is { } fetched
            ? fetched.Snapshot
            : TrustSnapshot.Refuse("issuer metadata unavailable: " + (Volatile.Read(ref _lastFailure) ?? "unknown error"));
    }

    // Keeps trying in the background until keys are loaded, so a gateway started while its provider is
    // down becomes ready on its own once the provider answers.
    private async Task WarmUpAsync(CancellationToken stopping)
    {
        var pause = RetryAfterFailure;
        try
        {
            while (Volatile.Read(ref _current) is null && !stopping.IsCancellationRequested)
            {
                if (await FetchAsync().ConfigureAwait(false))
                {
                    return;
                }

                await Task.Delay(pause, _timeProvider, stopping).ConfigureAwait(false);
                pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, MaxWarmUpPause.Ticks));
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }

    private void RefreshInBackgroundWhenDue()
    {
        var now = _timeProvider.GetUtcNow().UtcTicks;
        var due = Interlocked.Read(ref _nextAutomaticRefreshTicks);
        if (now < due)
        {
            return;
        }

        // Claiming the next slot first paces retries while the provider is down.
        if (Interlocked.CompareExchange(ref _nextAutomaticRefreshTicks, now + KeyRefreshInterval.Ticks, due) == due)
        {
            _ = FetchAsync();
        }
    }

    // One fetch at a time: concurrent callers share the one in flight.
    private Task<bool> FetchAsync()
    {
        lock (_fetchLock)
        {
            if (_fetch is { IsCompleted: false } running)
            {
                return running;
            }

            var fetch = Task.Run(FetchOnceAsync, CancellationToken.None);
            _fetch = fetch;
            return fetch;
        }
    }

    private async Task<bool> FetchOnceAsync()
    {
        CancellationToken stopping;
        try
        {
            stopping = _disposing.Token;
        }
        catch (ObjectDisposedException)
        {
            return false;
        }

        try
        {
            var configuration = await OpenIdConnectConfigurationRetriever.GetAsync(MetadataAddress, _retriever, stopping).ConfigureAwait(false);
            if (configuration.SigningKeys.Count == 0)
            {
                // Installing an empty set would drop keys that still work; keep the last good ones.
                return Fail("the key set has no usable signing keys");
            }

            Install(configuration, _timeProvider.GetUtcNow());
            return true;
        }
        catch (Exception ex) when (!stopping.IsCancellationRequested)
        {
            return Fail(Describe(ex));
        }
        catch (Exception)
        {
            return false; // disposed while fetching
        }
    }

    private bool Fail(string reason)
    {
        Volatile.Write(ref _lastFailure, reason);
        if (Volatile.Read(ref _current) is null)
        {
            PauseRetries();
        }

        Log.MetadataUnavailable(_logger, Name, MetadataAddress, reason);
        return false;
    }

    private void PauseRetries() => Interlocked.Exchange(ref _retryAfterTicks, (_timeProvider.GetUtcNow() + RetryAfterFailure).UtcTicks);

    private bool InRetryPause() => _timeProvider.GetUtcNow().UtcTicks < Interlocked.Read(ref _retryAfterTicks);

    private void Install(OpenIdConnectConfiguration configuration, DateTimeOffset fetchedAt)
    {
        var issuers = new List<string>(_validIssuers);
        var advertised = configuration.Issuer;
        if (!string.IsNullOrEmpty(advertised)
            && string.Equals(advertised.TrimEnd('/'), _authority.TrimEnd('/'), StringComparison.Ordinal)
            && !issuers.Contains(advertised, StringComparer.Ordinal))
        {
            issuers.Add(advertised);
        }

        var parameters = ValidationParametersFactory.Create(issuers, _audiences, configuration.SigningKeys, _clockSkew, _timeProvider);
        if (_signingKeyCheck is { } check)
        {
            // Keys come from explicit parameters, so IdentityModel passes no configuration: hand over this one.
            parameters.IssuerSigningKeyValidatorUsingConfiguration = (key, token, tvp, _) => check(key, token, tvp, configuration);
        }

        var keyIds = string.Join('\n', configuration.SigningKeys.Select(k => k.KeyId ?? string.Empty).Order(StringComparer.Ordinal));
        var previousKeyIds = Interlocked.Exchange(ref _keyIds, keyIds);
        Volatile.Write(ref _current, new CachedSnapshot(configuration, fetchedAt, new TrustSnapshot(parameters, null), configuration.SigningKeys.Count));
        Volatile.Write(ref _lastFailure, null);
        Interlocked.Exchange(ref _nextAutomaticRefreshTicks, (fetchedAt + AutomaticRefreshInterval).UtcTicks);
        if (previousKeyIds is not null && !string.Equals(previousKeyIds, keyIds, StringComparison.Ordinal))
        {
            OnSigningKeysChanged();
        }
    }

    private static string Describe(Exception ex)
    {
        // Wrapped transport errors say what actually happened in their innermost exception.
        var inner = ex;
        while (inner.InnerException is not null)
        {
            inner = inner.InnerException;
        }

        return inner.GetType().Name + ": " + inner.Message;
    }

    private sealed record CachedSnapshot(OpenIdConnectConfiguration Configuration, DateTimeOffset FetchedAt, TrustSnapshot Snapshot, int KeyCount);

    private static partial class Log
    {
        [LoggerMessage(IdentityEventIds.MetadataUnavailable, LogLevel.Warning, "Issuer {Issuer}: metadata from {Address} unavailable ({Reason}); tokens are checked against the keys already loaded, if any.")]
        public static partial void MetadataUnavailable(ILogger logger, string issuer, string address, string reason);

        [LoggerMessage(IdentityEventIds.SigningKeysRefreshed, LogLevel.Information, "Issuer {Issuer}: signing keys refreshed after an unknown key id.")]
        public static partial void SigningKeysRefreshed(ILogger logger, string issuer);
    }
}
