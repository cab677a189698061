using System.Net;

namespace ZtGateway.DevTools;

/// <summary>
/// A sample web client (authorization code with PKCE, a confidential client) that people sign in to with a browser,
/// such as a gateway listener with <c>signIn: true</c>.
/// </summary>
/// <param name="ClientId">The <c>client_id</c>; the ID token's <c>aud</c>.</param>
/// <param name="Secret">The client secret (<c>client_secret_post</c> or <c>client_secret_basic</c>).</param>
/// <param name="RedirectUris">
/// Redirect URIs matched exactly, each on loopback. Any loopback <see cref="CallbackPath"/> is accepted besides them.
/// </param>
internal sealed record DevWebClient(string ClientId, string Secret, IReadOnlyList<string> RedirectUris)
{
    /// <summary>The gateway's sign-in callback path, accepted on any loopback host and port.</summary>
    public const string CallbackPath = "/.ztgw/callback";

    /// <summary>
    /// Whether <paramref name="redirectUri"/> may receive this client's codes: one of <see cref="RedirectUris"/>
    /// exactly, or <c>http(s)://127.0.0.1|[::1]|localhost[:PORT]/.ztgw/callback</c> with no query.
    /// </summary>
    public bool Accepts(string redirectUri)
    {
        if (RedirectUris.Contains(redirectUri, StringComparer.Ordinal))
        {
            return true;
        }

        return IsLoopbackUri(redirectUri, out var uri)
            && string.Equals(uri.AbsolutePath, CallbackPath, StringComparison.Ordinal)
            && uri.Query.Length == 0;
    }

    /// <summary>
    /// Whether <paramref name="value"/> is an absolute http or https URI on a loopback host (127.0.0.0/8, ::1 or
    /// <c>localhost</c>) with no user information and no fragment: the only places this provider sends a browser back to.
    /// </summary>
    public static bool IsLoopbackUri(string value, out Uri uri)
    {
        if (!Uri.TryCreate(value, UriKind.Absolute, out uri!)
            || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
            || !value.StartsWith(uri.Scheme + "://", StringComparison.OrdinalIgnoreCase)
            || uri.UserInfo.Length > 0
            || value.Contains('#', StringComparison.Ordinal))
        {
            return false;
        }

        // The host as written: Uri turns the name "loopback" into localhost, but a browser resolves it by DNS.
        var authority = value[(value.IndexOf("://", StringComparison.Ordinal) + 3)..];
        authority = authority[..(authority.IndexOfAny(['/', '?']) is var end and >= 0 ? end : authority.Length)];
        var host = authority.StartsWith('[')
            ? authority[..(authority.IndexOf(']', StringComparison.Ordinal) + 1)]
            : authority.Split(':')[0];
        return string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)
            || (IPAddress.TryParse(host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));
    }

    /// <summary>The web clients of the sample network. The secret of <c>ztgw-web</c> is <c>dev-web-secret</c>.</summary>
    public static IReadOnlyList<DevWebClient> Samples { get; } = [new("ztgw-web", "dev-web-secret", [])];
}
