using ZtGateway.Identity;
using ZtGateway.Policy.Engine;

namespace ZtGateway.Caching;

/// <summary>
/// Remembers tokens that verified, keyed by digest, until their <c>exp</c> (and never longer than
/// <see cref="MaxEntryLifetime"/>), so the signature of a token that comes back on every request is checked
/// once. Only valid outcomes are remembered; refusals are always decided afresh. The cache belongs to one
/// gateway state, so a policy reload starts it empty.
/// </summary>
internal sealed class CachingTokenValidator : ITokenValidator, IDisposable
{
    public static readonly TimeSpan MaxEntryLifetime = TimeSpan.FromMinutes(5);
    private const string Bearer = "Bearer ";

    private readonly ITokenValidator _inner;
    private readonly TimeProvider _time;
    private readonly VerifiedCache<TokenValidationOutcome> _cache;

    public CachingTokenValidator(ITokenValidator inner, TimeProvider timeProvider, int capacity = 100_000)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _inner = inner;
        _time = timeProvider;
        _cache = new VerifiedCache<TokenValidationOutcome>(capacity, MaxEntryLifetime);
        _inner.SigningKeysChanged += _cache.Clear;
    }

    public event Action? SigningKeysChanged
    {
        add => _inner.SigningKeysChanged += value;
        remove => _inner.SigningKeysChanged -= value;
    }

    public ValueTask<TokenValidationOutcome> ValidateAsync(string? authorizationHeader, CancellationToken cancellationToken)
    {
        // The hit path neither copies the token nor allocates: it is hashed where it lies in the header.
        var now = _time.GetUtcNow();
        var token = RawToken(authorizationHeader);
        if (!token.IsEmpty && _cache.TryGet(token, now, out var cached))
        {
            return ValueTask.FromResult(cached);
        }

        return VerifyAndRememberAsync(authorizationHeader, now, cancellationToken);
    }

    private async ValueTask<TokenValidationOutcome> VerifyAndRememberAsync(string? authorizationHeader, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var outcome = await _inner.ValidateAsync(authorizationHeader, cancellationToken);
        if (outcome is { Status: TokenStatus.Valid, Principal: not null, Expires: { } expires })
        {
            var token = RawToken(authorizationHeader);
            if (!token.IsEmpty)
            {
                _cache.Set(token, outcome, outcome.Principal.Subject, now, expires);
            }
        }

        return outcome;
    }

    /// <summary>The verifier behind the cache (a reload hands it to the next one so fetched keys carry over).</summary>
    public ITokenValidator Inner => _inner;

    public IReadOnlyList<IssuerReadiness> GetReadiness() => _inner.GetReadiness();

    /// <summary>Forgets every cached token of a subject (a revocation signal).</summary>
    public void Forget(string subject) => _cache.RemoveSubject(subject);

    /// <summary>Forgets every cached token (signing keys changed).</summary>
    public void Clear() => _cache.Clear();

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
