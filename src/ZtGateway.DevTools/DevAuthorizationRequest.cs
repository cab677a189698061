using Microsoft.Extensions.Primitives;

namespace ZtGateway.DevTools;

/// <summary>
/// Why an authorization request was refused (RFC 6749 section 4.1.2.1). With a <see cref="RedirectUri"/> the error goes
/// back to the client; without one (no such client, or a redirect URI it may not use) the browser gets a 400 page, since
/// sending it to an unchecked address would make the provider an open redirector.
/// </summary>
/// <param name="Code">The OAuth <c>error</c> code.</param>
/// <param name="Description">The <c>error_description</c>.</param>
/// <param name="RedirectUri">The checked redirect URI, or null when the error cannot be redirected.</param>
/// <param name="State">The request's <c>state</c>, echoed with a redirected error.</param>
internal sealed record DevAuthorizationError(string Code, string Description, string? RedirectUri, string? State);

/// <summary>
/// A checked OpenID Connect authorization request (authorization code, PKCE S256, response mode query), whether it
/// came to <c>GET /authorize</c> or back from the login form, whose hidden fields are checked again like any input.
/// </summary>
internal sealed record DevAuthorizationRequest
{
    /// <summary>The parameters the login form carries back, unchanged, to <c>POST /authorize</c>.</summary>
    public static IReadOnlyList<string> CarriedParameters { get; } =
    [
        "client_id", "redirect_uri", "response_type", "response_mode", "scope", "state", "nonce",
        "code_challenge", "code_challenge_method", "prompt", "max_age", "acr_values",
    ];

    public required DevWebClient Client { get; init; }

    public required string RedirectUri { get; init; }

    public string? State { get; init; }

    public string? Nonce { get; init; }

    /// <summary>The S256 PKCE challenge (43 base64url characters).</summary>
    public required string CodeChallenge { get; init; }

    /// <summary>The scopes asked for; always holds <c>openid</c>.</summary>
    public required IReadOnlyList<string> Scopes { get; init; }

    /// <summary>The <c>prompt</c> values; empty when absent.</summary>
    public IReadOnlyList<string> Prompt { get; init; } = [];

    /// <summary>The <c>max_age</c>; null when absent.</summary>
    public TimeSpan? MaxAge { get; init; }

    /// <summary>The <c>acr_values</c>, most preferred first; empty when absent.</summary>
    public IReadOnlyList<string> AcrValues { get; init; } = [];

    /// <summary>The carried parameters as they arrived, for the login form's hidden fields.</summary>
    public required IReadOnlyList<KeyValuePair<string, string>> Parameters { get; init; }

    /// <summary><c>prompt=none</c>: answer without showing anything, or fail with <c>login_required</c>.</summary>
    public bool NoPrompt => Prompt.Contains("none", StringComparer.Ordinal);

    /// <summary>Whether the client asks for the second factor; the form then starts with it checked.</summary>
    public bool WantsMfa => AcrValues.Contains(DevLogin.MfaAcr, StringComparer.Ordinal);

    /// <summary>
    /// Whether <paramref name="login"/>, remembered from earlier, answers this request without the form: no
    /// <c>prompt=login</c> or <c>select_account</c>, within <c>max_age</c>, and of an <c>acr</c> the request accepts.
    /// </summary>
    public bool AcceptsRemembered(DevLogin login, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(login);
        if (Prompt.Contains("login", StringComparer.Ordinal) || Prompt.Contains("select_account", StringComparer.Ordinal))
        {
            return false;
        }

        // max_age=0 asks for a fresh sign-in, as prompt=login does (OpenID Connect Core section 3.1.2.1).
        if (MaxAge is { } maxAge && (maxAge == TimeSpan.Zero || now - login.AuthTime > maxAge))
        {
            return false;
        }

        return AcrValues.Count == 0 || AcrValues.Contains(login.Acr, StringComparer.Ordinal);
    }

    /// <summary>Checks the parameters of an authorization request against the web clients the provider knows.</summary>
    /// <param name="parameters">The query of <c>GET /authorize</c> or the form of <c>POST /authorize</c>.</param>
    /// <param name="clients">The web clients.</param>
    /// <param name="error">Why the request was refused, when it returns null.</param>
    public static DevAuthorizationRequest? Parse(
        IEnumerable<KeyValuePair<string, StringValues>> parameters, IReadOnlyList<DevWebClient> clients, out DevAuthorizationError? error)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(clients);
        var all = parameters.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        string? One(string name) => all.TryGetValue(name, out var values) && values.Count == 1 ? values[0] : null;
        bool Repeated(string name) => all.TryGetValue(name, out var values) && values.Count > 1;

        // Until the client and its redirect URI are known good, nothing may be sent back to the redirect URI.
        var clientId = One("client_id");
        var redirectUri = One("redirect_uri");
        if (string.IsNullOrEmpty(clientId) || string.IsNullOrEmpty(redirectUri))
        {
            error = new("invalid_request", "client_id and redirect_uri are required, each once", null, null);
            return null;
        }

        var client = clients.FirstOrDefault(c => string.Equals(c.ClientId, clientId, StringComparison.Ordinal));
        if (client is null)
        {
            error = new("invalid_client", $"unknown client '{clientId}'", null, null);
            return null;
        }

        if (!client.Accepts(redirectUri))
        {
            error = new("invalid_request", $"redirect_uri '{redirectUri}' is not one {clientId} may use (loopback {DevWebClient.CallbackPath} or a registered URI)", null, null);
            return null;
        }

        var state = One("state");
        DevAuthorizationRequest? Fail(string code, string description, out DevAuthorizationError? failure)
        {
            failure = new(code, description, redirectUri, state);
            return null;
        }

        var repeated = CarriedParameters.FirstOrDefault(Repeated);
        if (repeated is not null)
        {
            return Fail("invalid_request", $"'{repeated}' is given more than once", out error);
        }

        if (all.ContainsKey("request"))
        {
            return Fail("request_not_supported", "request objects are not supported", out error);
        }

        if (all.ContainsKey("request_uri"))
        {
            return Fail("request_uri_not_supported", "request_uri is not supported", out error);
        }

        var responseType = One("response_type");
        if (string.IsNullOrEmpty(responseType))
        {
            return Fail("invalid_request", "response_type is required", out error);
        }

        if (responseType != "code")
        {
            return Fail("unsupported_response_type", "only response_type=code is supported", out error);
        }

        if (One("response_mode") is { } responseMode && responseMode != "query")
        {
            return Fail("invalid_request", "only response_mode=query is supported", out error);
        }

        var scopes = Split(One("scope"));
        if (!scopes.Contains("openid", StringComparer.Ordinal))
        {
            return Fail("invalid_scope", "scope must hold openid", out error);
        }

        var challenge = One("code_challenge");
        if (string.IsNullOrEmpty(challenge))
        {
            return Fail("invalid_request", "code_challenge is required (PKCE, S256)", out error);
        }

        // A missing method means plain (RFC 7636 section 4.3), which this provider does not take.
        if (One("code_challenge_method") != "S256")
        {
            return Fail("invalid_request", "code_challenge_method must be S256", out error);
        }

        if (challenge.Length != 43 || !challenge.All(IsBase64UrlCharacter))
        {
            return Fail("invalid_request", "code_challenge must be the base64url SHA-256 of the verifier (43 characters)", out error);
        }

        var prompt = Split(One("prompt"));
        if (prompt.Contains("none", StringComparer.Ordinal) && prompt.Count > 1)
        {
            return Fail("invalid_request", "prompt=none cannot be combined with other values", out error);
        }

        TimeSpan? maxAge = null;
        if (One("max_age") is { } maxAgeText)
        {
            if (!int.TryParse(maxAgeText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var seconds))
            {
                return Fail("invalid_request", "max_age must be a number of seconds", out error);
            }

            maxAge = TimeSpan.FromSeconds(seconds);
        }

        error = null;
        return new DevAuthorizationRequest
        {
            Client = client,
            RedirectUri = redirectUri,
            State = state,
            Nonce = One("nonce"),
            CodeChallenge = challenge,
            Scopes = scopes,
            Prompt = prompt,
            MaxAge = maxAge,
            AcrValues = Split(One("acr_values")),
            Parameters = CarriedParameters
                .Where(name => One(name) is not null)
                .Select(name => KeyValuePair.Create(name, One(name)!))
                .ToArray(),
        };
    }

    private static List<string> Split(string? value) =>
        value is null ? [] : [.. value.Split(' ', StringSplitOptions.RemoveEmptyEntries)];

    private static bool IsBase64UrlCharacter(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '_';
}
