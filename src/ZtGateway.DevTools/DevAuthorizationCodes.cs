using System.Collections.Concurrent;

namespace ZtGateway.DevTools;

/// <summary>What an authorization code stands for, and what its redemption must match.</summary>
/// <param name="ClientId">The client the code was issued to.</param>
/// <param name="RedirectUri">The <c>redirect_uri</c> of the authorization request; the token request must repeat it.</param>
/// <param name="CodeChallenge">The S256 PKCE challenge the token request's <c>code_verifier</c> must answer.</param>
/// <param name="Nonce">The request's <c>nonce</c>, copied into the ID token; null when the request had none.</param>
/// <param name="Scopes">The scopes asked for.</param>
/// <param name="Login">The sign-in the code was issued for.</param>
internal sealed record DevAuthorizationGrant(
    string ClientId, string RedirectUri, string CodeChallenge, string? Nonce, IReadOnlyList<string> Scopes, DevLogin Login);

/// <summary>
/// One-time authorization codes (RFC 6749 section 4.1.2): random, bound to a <see cref="DevAuthorizationGrant"/>, valid for
/// <see cref="Lifetime"/>, and gone at the first redemption whatever its outcome, so a leaked code cannot be tried twice.
/// </summary>
internal sealed class DevAuthorizationCodes
{
    /// <summary>How long a code may wait for its redemption.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(60);

    private readonly ConcurrentDictionary<string, (DevAuthorizationGrant Grant, DateTimeOffset Expires)> _codes = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;

    public DevAuthorizationCodes(TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
    }

    /// <summary>Issues a new code for <paramref name="grant"/>.</summary>
    public string Issue(DevAuthorizationGrant grant)
    {
        ArgumentNullException.ThrowIfNull(grant);
        var now = _time.GetUtcNow();
        foreach (var (stale, entry) in _codes)
        {
            if (entry.Expires <= now)
            {
                _codes.TryRemove(stale, out _);
            }
        }

        var code = DevLogins.RandomId();
        _codes[code] = (grant, now + Lifetime);
        return code;
    }

    /// <summary>Takes <paramref name="code"/> out of the store: its grant, or null when it is unknown, used or expired.</summary>
    public DevAuthorizationGrant? Redeem(string code)
    {
        if (string.IsNullOrEmpty(code) || !_codes.TryRemove(code, out var entry))
        {
            return null;
        }

        return entry.Expires > _time.GetUtcNow() ? entry.Grant : null;
    }
}
