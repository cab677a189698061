using ZtGateway.Policy.Engine;

namespace ZtGateway.Sources.Identity;

/// <summary>
/// Remembers verdicts on bearer tokens, keyed by digest, so that a token that comes back on every request has its
/// signature checked once. A token that verified is remembered until its <c>exp</c> (and never longer than
/// <see cref="MaxEntryLifetime"/>); a token that was refused (forged, expired, for another audience) is remembered
/// for <see cref="RefusalLifetime"/>, so a flood of the same bad token costs a lookup each, not a signature check.
/// Refusals that say nothing about the token (<see cref="TokenValidationOutcome.Transient"/>, a canceled request) are
/// never remembered. Both caches are bounded, both are emptied when an issuer's signing keys change, and both
/// belong to one gateway state, so a policy reload starts them empty.
/// </summary>
internal sealed class CachingTokenValidator : ITokenValidator, IDisposable
{
    public static readonly TimeSpan MaxEntryLifetime = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How long a refusal is remembered: the longest a credential that would now verify can go on being refused
    /// (a token whose <c>nbf</c> just passed) when no key change empties the cache first.
    /// </summary>
    public static readonly TimeSpan RefusalLifetime = TimeSpan.FromSeconds(5);

    private const string Bearer = "Bearer ";

    private readonly ITokenValidator _inner;
    private readonly TimeProvider _time;
    private readonly VerifiedCache<TokenValidationOutcome> _cache;
    private readonly VerifiedCache<TokenValidationOutcome> _refused;

    // Bumped by every Clear: a verdict reached with keys that changed meanwhile is not remembered.
    private int _generation;

    /// <param name="inner">The verifier.</param>
    /// <param name="timeProvider">Clock of both caches.</param>
    /// <param name="capacity">Most tokens remembered as verified.</param>
    /// <param name="refusedCapacity">
    /// Most tokens remembered as refused. A separate bound, so that a flood of distinct forged tokens never pushes
    /// verified ones out.
    /// </param>
    public CachingTokenValidator(ITokenValidator inner, TimeProvider timeProvider, int capacity = 100_000, int refusedCapacity = 10_000)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _inner = inner;
        _time = timeProvider;
        _cache = new VerifiedCache<TokenValidationOutcome>(capacity, MaxEntryLifetime);
        _refused = new VerifiedCache<TokenValidationOutcome>(refusedCapacity, RefusalLifetime);
        _inner.SigningKeysChanged += Clear;
    }

    public event Action? SigningKeysChanged
    {
        add => _inner.SigningKeysChanged += value;
        remove => _inner.SigningKeysChanged -= value;
    }

    public ValueTask<TokenValidationOutcome> ValidateAsync(string? authorizationHeader, CancellationToken cancellationToken) =>
        ValidateAsync(authorizationHeader, recent: null, cancellationToken);

    /// <inheritdoc/>
    public ValueTask<TokenValidationOutcome> ValidateAsync(string? authorizationHeader, RecentCredential? recent, CancellationToken cancellationToken)
    {
        // The hit path neither copies the token nor allocates: it is hashed where it lies in the header, or, when the
        // caller presented the same header last time, not even hashed.
        var now = _time.GetUtcNow();
        var token = RawToken(authorizationHeader);
        if (token.IsEmpty)
        {
            return VerifyAndRememberAsync(authorizationHeader, now, recent: null, cancellationToken);
        }

        if (recent is not null && (_cache.TryGetRecent(recent, authorizationHeader!, now, out var remembered)
            || _refused.TryGetRecent(recent, authorizationHeader!, now, out remembered)))
        {
            return ValueTask.FromResult(remembered);
        }

        if (_cache.TryGet(token, authorizationHeader!, now, recent, out var cached) || _refused.TryGet(token, authorizationHeader!, now, recent, out cached))
        {
            return ValueTask.FromResult(cached);
        }

        return VerifyAndRememberAsync(authorizationHeader, now, recent, cancellationToken);
    }

    private async ValueTask<TokenValidationOutcome> VerifyAndRememberAsync(string? authorizationHeader, DateTimeOffset now, RecentCredential? recent,
        CancellationToken cancellationToken)
    {
        var generation = Volatile.Read(ref _generation);
        var outcome = await _inner.ValidateAsync(authorizationHeader, cancellationToken);
        var token = RawToken(authorizationHeader);
        if (token.IsEmpty || generation != Volatile.Read(ref _generation))
        {
            return outcome;
        }

        if (outcome is { Status: TokenStatus.Valid, Principal: not null, Expires: { } expires })
        {
            _cache.Set(token, outcome, outcome.Principal.Subject, now, expires, authorizationHeader, recent);
        }
        else if (outcome is { Status: TokenStatus.Invalid or TokenStatus.Expired, Transient: false } && !cancellationToken.IsCancellationRequested)
        {
            _refused.Set(token, outcome, subject: null, now, now + RefusalLifetime, authorizationHeader, recent);
        }

        return outcome;
    }

    /// <summary>Tokens remembered as refused now.</summary>
    internal int RefusedCount => _refused.Count;

    /// <summary>The verifier behind the cache (a reload hands it to the next one so fetched keys carry over).</summary>
    public ITokenValidator Inner => _inner;

    public IReadOnlyList<IssuerReadiness> GetReadiness() => _inner.GetReadiness();

    /// <inheritdoc/>
    public ValueTask<IssuedTokenCheck> VerifyIssuedForAsync(string issuerName, string token, string audience, CancellationToken cancellationToken) =>
        _inner.VerifyIssuedForAsync(issuerName, token, audience, cancellationToken);

    /// <inheritdoc/>
    public ValueTask<Microsoft.IdentityModel.Protocols.OpenIdConnect.OpenIdConnectConfiguration?> GetProviderConfigurationAsync(string issuerName,
        CancellationToken cancellationToken) => _inner.GetProviderConfigurationAsync(issuerName, cancellationToken);

    /// <summary>Forgets every cached token of a subject (a revocation signal).</summary>
    public void Forget(string subject) => _cache.RemoveSubject(subject);

    /// <summary>Forgets every cached verdict (signing keys changed).</summary>
    public void Clear()
    {
        Interlocked.Increment(ref _generation);
        _cache.Clear();
        _refused.Clear();
    }

    private static ReadOnlySpan<char> RawToken(string? header)
    {
        if (header is null || header.Length <= Bearer.Length || !header.StartsWith(Bearer, StringComparison.OrdinalIgnoreCase))
        {
            return default;
        }

        return header.AsSpan(Bearer.Length).Trim();
    }

    public void Dispose() => (_inner as IDisposable)?.Dispose();
}
