namespace ZtGateway.Enforcement.SignIn;

/// <summary>
/// The paths a segment listener keeps for itself under <c>/.ztgw/</c> (docs/design.md section 3.1). No route may be
/// written under that prefix (the loader refuses it), so none of these ever reaches an upstream.
/// </summary>
internal static class SignInPaths
{
    /// <summary>The reserved prefix.</summary>
    public const string Prefix = "/.ztgw";

    /// <summary>Where the provider sends the browser back with the authorization code.</summary>
    public const string Callback = "/.ztgw/callback";

    /// <summary>Starts a sign-in; <c>returnUrl</c> names the local page to come back to.</summary>
    public const string SignIn = "/.ztgw/sign-in";

    /// <summary>GET: a page with a sign-out button; POST: ends the session here and at the provider.</summary>
    public const string SignOut = "/.ztgw/sign-out";

    /// <summary>Where the provider sends the browser after it signed the person out (the post-logout redirect).</summary>
    public const string SignedOut = "/.ztgw/signed-out";

    /// <summary>The OpenID Connect handler's own sign-out callback (unused by the gateway's sign-out, kept under the prefix).</summary>
    public const string SignedOutCallback = "/.ztgw/signout-callback";

    /// <summary>Front-channel logout from the provider (OpenID Connect Front-Channel Logout 1.0).</summary>
    public const string RemoteSignOut = "/.ztgw/remote-sign-out";

    /// <summary>True for every path under the reserved prefix.</summary>
    public static bool IsReserved(PathString path) => path.StartsWithSegments(Prefix, StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// True when <paramref name="returnUrl"/> is a path of this listener (starts with one <c>/</c>, no scheme, no
    /// authority, no backslash, no control characters): a sign-in never sends the browser anywhere else.
    /// </summary>
    public static bool IsLocalPath(string? returnUrl)
    {
        if (string.IsNullOrEmpty(returnUrl) || returnUrl.Length > 2048 || returnUrl[0] != '/')
        {
            return false;
        }

        if (returnUrl.Length > 1 && (returnUrl[1] == '/' || returnUrl[1] == '\\'))
        {
            return false;
        }

        foreach (var c in returnUrl)
        {
            if (c == '\\' || char.IsControl(c))
            {
                return false;
            }
        }

        return true;
    }
}
