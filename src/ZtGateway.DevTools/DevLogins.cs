using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.IdentityModel.Tokens;

namespace ZtGateway.DevTools;

/// <summary>A person signed in at the development identity provider: what every token of that sign-in says.</summary>
/// <param name="User">Who signed in.</param>
/// <param name="Mfa">Whether the (simulated) second factor was used.</param>
/// <param name="AuthTime">When the password was checked; the tokens' <c>auth_time</c>.</param>
/// <param name="Sid">The session id, the tokens' <c>sid</c>; not the browser's cookie, which stays secret.</param>
internal sealed record DevLogin(DevUser User, bool Mfa, DateTimeOffset AuthTime, string Sid)
{
    /// <summary>The <c>acr</c> of a sign-in with a password alone.</summary>
    public const string PasswordAcr = "urn:ztgw:acr:pwd";

    /// <summary>The <c>acr</c> of a sign-in with a password and the second factor.</summary>
    public const string MfaAcr = "urn:ztgw:acr:mfa";

    /// <summary>The acr values this provider announces and issues.</summary>
    public static IReadOnlyList<string> AcrValues { get; } = [PasswordAcr, MfaAcr];

    /// <summary>RFC 8176 methods: the simulated second factor stands for a one-time code, so <c>otp</c> and <c>mfa</c>.</summary>
    public IReadOnlyList<string> Amr => AmrOf(Mfa);

    public string Acr => Mfa ? MfaAcr : PasswordAcr;

    /// <summary>The <c>amr</c> of a sign-in with or without the second factor; the password grant says the same.</summary>
    public static IReadOnlyList<string> AmrOf(bool mfa) => mfa ? ["pwd", "otp", "mfa"] : ["pwd"];
}

/// <summary>
/// The sign-ins browsers hold at the provider, kept on the server: the browser's cookie carries only a random handle,
/// so signing out forgets a sign-in for good, and an ID token's <c>sid</c> can end it too.
/// </summary>
internal sealed class DevLogins
{
    /// <summary>
    /// The provider's cookie. Browsers share cookies across the ports of one host, so the name must not be one a
    /// gateway on the same loopback host uses.
    /// </summary>
    public const string CookieName = "ztgw_dev_idp_login";

    private readonly ConcurrentDictionary<string, (DevLogin Login, DateTimeOffset Expires)> _byHandle = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly TimeSpan _lifetime;

    /// <param name="time">The clock for expiry.</param>
    /// <param name="lifetime">How long a remembered sign-in lasts.</param>
    public DevLogins(TimeProvider time, TimeSpan lifetime)
    {
        ArgumentNullException.ThrowIfNull(time);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(lifetime, TimeSpan.Zero);
        _time = time;
        _lifetime = lifetime;
    }

    /// <summary>Remembers a new sign-in of <paramref name="user"/> made now, and returns it with its cookie handle.</summary>
    public (DevLogin Login, string Handle) Add(DevUser user, bool mfa)
    {
        var now = _time.GetUtcNow();
        foreach (var (handle, entry) in _byHandle)
        {
            if (entry.Expires <= now)
            {
                _byHandle.TryRemove(handle, out _);
            }
        }

        // auth_time is a whole second, as in every JWT time, so the age checks agree with what tokens say.
        var login = new DevLogin(user, mfa, DateTimeOffset.FromUnixTimeSeconds(now.ToUnixTimeSeconds()), RandomId());
        var created = RandomId();
        _byHandle[created] = (login, now + _lifetime);
        return (login, created);
    }

    /// <summary>The sign-in a cookie handle names, or null when there is none or it expired.</summary>
    public DevLogin? Find(string? handle)
    {
        if (string.IsNullOrEmpty(handle) || !_byHandle.TryGetValue(handle, out var entry))
        {
            return null;
        }

        return entry.Expires > _time.GetUtcNow() ? entry.Login : null;
    }

    /// <summary>Forgets the sign-in of a cookie handle.</summary>
    public void Remove(string? handle)
    {
        if (!string.IsNullOrEmpty(handle))
        {
            _byHandle.TryRemove(handle, out _);
        }
    }

    /// <summary>Forgets every sign-in whose session id is <paramref name="sid"/>.</summary>
    public void RemoveSession(string sid)
    {
        foreach (var (handle, entry) in _byHandle)
        {
            if (string.Equals(entry.Login.Sid, sid, StringComparison.Ordinal))
            {
                _byHandle.TryRemove(handle, out _);
            }
        }
    }

    /// <summary>256 random bits, base64url: cookie handles, session ids and authorization codes.</summary>
    public static string RandomId() => Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));
}
