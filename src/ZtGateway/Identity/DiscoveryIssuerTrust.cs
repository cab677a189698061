using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.Configuration;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace ZtGateway.Identity;

/// <summary>
/// An issuer whose keys come from OpenID Connect discovery at <c>{authority}/.well-known/openid-configuration</c>:
/// both <c>type: oidc</c> and <c>type: entra</c> (which only differ in how the authority and accepted
/// issuers are derived). Metadata failures and timeouts refuse the token; they never escape as exceptions,
/// and the issuer recovers by itself once the provider answers again.
/// </summary>
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

    private readonly ConfigurationManager<OpenIdConnectConfiguration> _manager;
    private readonly UpdateSignal _updates = new();
    private readonly SemaphoreSlim _bootstrapGate = new(1, 1);
    private readonly string _authority;
    private readonly IReadOnlyList<string> _validIssuers;
    private readonly IReadOnlyList<string> _audiences;
    private readonly TimeSpan _clockSkew;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private CachedSnapshot? _current;
    private long _retryAfterTicks;
    private long _lastKeyRefreshTicks = long.MinValue;

    /// <summary>Creates the trust; nothing is fetched until the first token arrives.</summary>
    /// <param name="name">The configured issuer name.</param>
    /// <param name="authority">The authority; the expected <c>iss</c>.</param>
    /// <param name="selectingIssuers"><c>iss</c> values that route a token here.</param>
    /// <param name="validIssuers"><c>iss</c> values accepted besides a discovery <c>issuer</c> equal to the authority.</param>
    /// <param name="audiences">Accepted <c>aud</c> values.</param>
    /// <param name="requireHttpsMetadata">Refuse metadata over plain HTTP.</param>
    /// <param name="httpClient">Backchannel client; its timeout bounds each fetch.</param>
    /// <param name="clockSkew">Lifetime tolerance.</param>
    /// <param name="timeProvider">Clock for lifetimes and retry pacing.</param>
    /// <param name="logger">Where metadata problems are reported.</param>
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
        ILogger logger)
        : base(name)
    {
        _authority = authority;
        SelectingIssuers = selectingIssuers;
        _validIssuers = validIssuers;
        _audiences = audiences;
        _clockSkew = clockSkew;
        _timeProvider = timeProvider;
        _logger = logger;
        MetadataAddress = authority.TrimEnd('/') + "/.well-known/openid-configuration";
        var retriever = new HttpDocumentRetriever(httpClient) { RequireHttps = requireHttpsMetadata };
        _manager = new ConfigurationManager<OpenIdConnectConfiguration>(MetadataAddress, new OpenIdConnectConfigurationRetriever(), retriever)
        {
            RefreshInterval = KeyRefreshInterval,
            ConfigurationEventHandler = _updates,
        };
    }

    /// <summary>Where discovery is read from.</summary>
    public string MetadataAddress { get; }

    /// <inheritdoc />
    public override IReadOnlyList<string> SelectingIssuers { get; }

    /// <inheritdoc />
    public override async ValueTask<TrustSnapshot> GetSnapshotAsync(CancellationToken cancellationToken)
    {
        var current = Volatile.Read(ref _current);
        if (current is not null)
        {
            // With a configuration in hand the manager answers at once and refreshes in the background.
            var configuration = await _manager.GetConfigurationAsync(cancellationToken).ConfigureAwait(false);
            return SnapshotFor(configuration).Snapshot;
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

        var updated = _updates.Next;
        _manager.RequestRefresh();
        try
        {
            await updated.WaitAsync(FetchTimeout, cancellationToken).ConfigureAwait(false);
            Log.SigningKeysRefreshed(_logger, Name);
            return true;
        }
        catch (TimeoutException)
        {
            Log.MetadataUnavailable(_logger, Name, MetadataAddress, "key refresh timed out");
            return false;
        }
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _bootstrapGate.Dispose();
        }

        base.Dispose(disposing);
    }

    private async ValueTask<TrustSnapshot> BootstrapAsync(CancellationToken cancellationToken)
    {
        if (InRetryPause())
        {
            return TrustSnapshot.Refuse("issuer metadata unavailable");
        }

        if (!await _bootstrapGate.WaitAsync(FetchTimeout, cancellationToken).ConfigureAwait(false))
        {
            return TrustSnapshot.Refuse("issuer metadata fetch timed out");
        }

        try
        {
            if (Volatile.Read(ref _current) is { } fetched)
            {
                return fetched.Snapshot;
            }

            if (InRetryPause())
            {
                return TrustSnapshot.Refuse("issuer metadata unavailable");
            }

            try
            {
                var configuration = await _manager.GetConfigurationAsync(CancellationToken.None)
                    .WaitAsync(FetchTimeout, cancellationToken).ConfigureAwait(false);
                return SnapshotFor(configuration).Snapshot;
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                var reason = ex is TimeoutException ? "timed out" : Describe(ex);
                Interlocked.Exchange(ref _retryAfterTicks, (_timeProvider.GetUtcNow() + RetryAfterFailure).UtcTicks);
                Log.MetadataUnavailable(_logger, Name, MetadataAddress, reason);
                return TrustSnapshot.Refuse("issuer metadata unavailable: " + reason);
            }
        }
        finally
        {
            _bootstrapGate.Release();
        }
    }

    private bool InRetryPause() => _timeProvider.GetUtcNow().UtcTicks < Interlocked.Read(ref _retryAfterTicks);

    // Parameters are rebuilt only when the manager hands out a new configuration object.
    private CachedSnapshot SnapshotFor(OpenIdConnectConfiguration configuration)
    {
        var current = Volatile.Read(ref _current);
        if (current is not null && ReferenceEquals(current.Configuration, configuration))
        {
            return current;
        }

        var issuers = new List<string>(_validIssuers);
        var advertised = configuration.Issuer;
        if (!string.IsNullOrEmpty(advertised)
            && string.Equals(advertised.TrimEnd('/'), _authority.TrimEnd('/'), StringComparison.Ordinal)
            && !issuers.Contains(advertised, StringComparer.Ordinal))
        {
            issuers.Add(advertised);
        }

        var parameters = ValidationParametersFactory.Create(issuers, _audiences, configuration.SigningKeys, _clockSkew, _timeProvider);
        var snapshot = new CachedSnapshot(configuration, new TrustSnapshot(parameters, null));
        Volatile.Write(ref _current, snapshot);
        return snapshot;
    }

    private static string Describe(Exception ex)
    {
        // IdentityModel wraps the transport error; the innermost message says what actually happened.
        var inner = ex;
        while (inner.InnerException is not null)
        {
            inner = inner.InnerException;
        }

        return inner.GetType().Name + ": " + inner.Message;
    }

    private sealed record CachedSnapshot(OpenIdConnectConfiguration Configuration, TrustSnapshot Snapshot);

    /// <summary>Completes a task each time the manager installs a new configuration.</summary>
    private sealed class UpdateSignal : IConfigurationEventHandler<OpenIdConnectConfiguration>
    {
        private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Next => Volatile.Read(ref _next).Task;

        public Task<ConfigurationEventHandlerResult<OpenIdConnectConfiguration>> BeforeRetrieveAsync(string metadataAddress, CancellationToken cancellationToken = default)
            => Task.FromResult(ConfigurationEventHandlerResult<OpenIdConnectConfiguration>.NoResult);

        public Task AfterUpdateAsync(string metadataAddress, OpenIdConnectConfiguration configuration, CancellationToken cancellationToken = default)
        {
            var done = Interlocked.Exchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
            done.TrySetResult();
            return Task.CompletedTask;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(IdentityEventIds.MetadataUnavailable, LogLevel.Warning, "Issuer {Issuer}: metadata from {Address} unavailable ({Reason}); its tokens are refused until it answers.")]
        public static partial void MetadataUnavailable(ILogger logger, string issuer, string address, string reason);

        [LoggerMessage(IdentityEventIds.SigningKeysRefreshed, LogLevel.Information, "Issuer {Issuer}: signing keys refreshed after an unknown key id.")]
        public static partial void SigningKeysRefreshed(ILogger logger, string issuer);
    }
}
