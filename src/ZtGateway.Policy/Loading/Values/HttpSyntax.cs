namespace ZtGateway.Policy.Loading.Values;

/// <summary>Small syntax checks for HTTP tokens and URLs.</summary>
internal static class HttpSyntax
{
    /// <summary>An RFC 9110 token: method names, header field names.</summary>
    public static bool IsToken(string text) =>
        text.Length > 0 && text.All(c => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c, StringComparison.Ordinal));

    /// <summary>An absolute http or https URL with a host.</summary>
    public static bool IsHttpUrl(string text) =>
        Uri.TryCreate(text, UriKind.Absolute, out var uri)
        && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
        && uri.Host.Length > 0;

    /// <summary>An absolute http URL (plain, not TLS).</summary>
    public static bool IsPlainHttp(string text) =>
        Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttp;
}
