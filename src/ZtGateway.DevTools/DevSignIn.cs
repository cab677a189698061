using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Primitives;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace ZtGateway.DevTools;

/// <summary>
/// Browser sign-in at the development identity provider: <c>/authorize</c> (OpenID Connect authorization code with
/// PKCE S256, response mode query, <c>nonce</c>, <c>state</c>, <c>prompt</c>, <c>max_age</c>, <c>acr_values</c>), the
/// <c>authorization_code</c> grant of <c>/token</c> for confidential web clients, and RP-initiated logout at
/// <c>/logout</c>. Browsers are only ever sent back to loopback addresses.
/// </summary>
internal sealed class DevSignIn
{
    private static readonly string[] CodeGrantParameters = ["code", "redirect_uri", "code_verifier"];

    private readonly DevIdentityProviderOptions _options;
    private readonly SigningCredentials _credentials;
    private readonly Func<string> _authority;
    private readonly DevLogins _logins;
    private readonly DevAuthorizationCodes _codes;

    /// <param name="options">The provider's options: users, web clients, lifetimes and clock.</param>
    /// <param name="credentials">The provider's signing key.</param>
    /// <param name="authority">The provider's issuer, known once it listens.</param>
    public DevSignIn(DevIdentityProviderOptions options, SigningCredentials credentials, Func<string> authority)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(credentials);
        ArgumentNullException.ThrowIfNull(authority);
        foreach (var client in options.WebClients)
        {
            if (string.IsNullOrEmpty(client.ClientId) || string.IsNullOrEmpty(client.Secret))
            {
                throw new InvalidOperationException("a web client needs a client id and a secret");
            }

            var outside = client.RedirectUris.FirstOrDefault(uri => !DevWebClient.IsLoopbackUri(uri, out _));
            if (outside is not null)
            {
                throw new InvalidOperationException($"web client {client.ClientId}: redirect URI {outside} is not an http(s) address on loopback");
            }
        }

        _options = options;
        _credentials = credentials;
        _authority = authority;
        _logins = new DevLogins(options.TimeProvider, options.LoginLifetime);
        _codes = new DevAuthorizationCodes(options.TimeProvider);
    }

    /// <summary>Maps <c>GET|POST /authorize</c> and <c>GET|POST /logout</c>.</summary>
    public void Map(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        // Explicit return types: an expression lambda taking HttpContext would otherwise bind as a RequestDelegate
        // and its IResult would be dropped.
        app.MapGet("/authorize", IResult (HttpContext context) => Authorize(context));
        app.MapPost("/authorize", Task<IResult> (HttpContext context) => LoginAsync(context));
        app.MapGet("/logout", Task<IResult> (HttpContext context) => LogoutAsync(context, context.Request.Query));
        app.MapPost("/logout", async Task<IResult> (HttpContext context) => context.Request.HasFormContentType
            ? await LogoutAsync(context, await context.Request.ReadFormAsync(context.RequestAborted))
            : DevLoginPage.Message("Sign-out refused", "a form body is expected", StatusCodes.Status400BadRequest));
    }

    private IResult Authorize(HttpContext context)
    {
        var request = DevAuthorizationRequest.Parse(context.Request.Query, _options.WebClients, out var error);
        if (request is null)
        {
            return Refuse(error!);
        }

        var login = _logins.Find(context.Request.Cookies[DevLogins.CookieName]);
        if (login is not null && request.AcceptsRemembered(login, _options.TimeProvider.GetUtcNow()))
        {
            return Grant(request, login);
        }

        if (request.NoPrompt)
        {
            return Refuse(new("login_required", "the user must sign in", request.RedirectUri, request.State));
        }

        return DevLoginPage.Form(request, _options.Users, login?.User.Name, request.WantsMfa, message: null);
    }

    private async Task<IResult> LoginAsync(HttpContext context)
    {
        if (!context.Request.HasFormContentType)
        {
            return DevLoginPage.Message("Sign-in refused", "a form body is expected", StatusCodes.Status400BadRequest);
        }

        // The hidden fields are input like any other: the request is checked again, not trusted from the form.
        var form = await context.Request.ReadFormAsync(context.RequestAborted);
        var request = DevAuthorizationRequest.Parse(form, _options.WebClients, out var error);
        if (request is null)
        {
            return Refuse(error!);
        }

        if (form["action"] == "cancel")
        {
            return Refuse(new("access_denied", "the user canceled the sign-in", request.RedirectUri, request.State));
        }

        var name = form["username"].ToString();
        var mfa = form["mfa"] == "true";
        var user = _options.Users.FirstOrDefault(u => string.Equals(u.Name, name, StringComparison.Ordinal));
        if (user is null || !DevIdentityProvider.CryptographicEquals(DevIdentityProvider.DevPassword, form["password"].ToString()))
        {
            return DevLoginPage.Form(request, _options.Users, name, mfa, "Unknown user or wrong password.");
        }

        _logins.Remove(context.Request.Cookies[DevLogins.CookieName]);
        var (login, handle) = _logins.Add(user, mfa);
        context.Response.Cookies.Append(DevLogins.CookieName, handle, CookieOptions(context));
        return Grant(request, login);
    }

    private async Task<IResult> LogoutAsync(HttpContext context, IEnumerable<KeyValuePair<string, StringValues>> parameters)
    {
        var all = parameters.ToDictionary(p => p.Key, p => p.Value.ToString(), StringComparer.Ordinal);
        var hint = all.GetValueOrDefault("id_token_hint");
        var postLogout = all.GetValueOrDefault("post_logout_redirect_uri");
        string? sid = null;
        if (!string.IsNullOrEmpty(hint))
        {
            var (valid, audience, hintSid) = await ReadHintAsync(hint);
            if (!valid)
            {
                return DevLoginPage.Message("Sign-out refused", "id_token_hint is not an ID token of this provider", StatusCodes.Status400BadRequest);
            }

            if (all.GetValueOrDefault("client_id") is { Length: > 0 } clientId && !string.Equals(clientId, audience, StringComparison.Ordinal))
            {
                return DevLoginPage.Message("Sign-out refused", "client_id is not the audience of id_token_hint", StatusCodes.Status400BadRequest);
            }

            sid = hintSid;
        }

        if (!string.IsNullOrEmpty(postLogout) && !DevWebClient.IsLoopbackUri(postLogout, out _))
        {
            return DevLoginPage.Message("Sign-out refused", $"post_logout_redirect_uri '{postLogout}' is not an http(s) address on loopback", StatusCodes.Status400BadRequest);
        }

        _logins.Remove(context.Request.Cookies[DevLogins.CookieName]);
        if (sid is not null)
        {
            _logins.RemoveSession(sid);
        }

        context.Response.Cookies.Delete(DevLogins.CookieName, CookieOptions(context));
        if (string.IsNullOrEmpty(postLogout))
        {
            return DevLoginPage.Message("Signed out", "You have signed out of the development identity provider.", StatusCodes.Status200OK);
        }

        var state = all.GetValueOrDefault("state");
        return Results.Redirect(string.IsNullOrEmpty(state) ? postLogout : QueryHelpers.AddQueryString(postLogout, "state", state));
    }

    /// <summary>
    /// The <c>authorization_code</c> grant: a complete request, client authentication, then the code (gone from then
    /// on, so a refused redemption cannot be retried), bound to that client, the same <c>redirect_uri</c> and a
    /// <c>code_verifier</c> whose S256 is the challenge.
    /// </summary>
    /// <param name="form">The token request.</param>
    /// <param name="authorization">Its <c>Authorization</c> header (for <c>client_secret_basic</c>).</param>
    public IResult RedeemCode(IFormCollection form, string authorization)
    {
        ArgumentNullException.ThrowIfNull(form);
        var code = form["code"].ToString();
        var missing = CodeGrantParameters.FirstOrDefault(name => form[name].Count != 1 || form[name][0]!.Length == 0);
        if (missing is not null)
        {
            return DevIdentityProvider.TokenError(StatusCodes.Status400BadRequest, "invalid_request", $"{missing} is required, once");
        }

        var (id, secret) = DevIdentityProvider.ClientCredentials(form, authorization);
        var client = _options.WebClients.FirstOrDefault(c => string.Equals(c.ClientId, id, StringComparison.Ordinal));
        if (client is null || !DevIdentityProvider.CryptographicEquals(client.Secret, secret))
        {
            return DevIdentityProvider.TokenError(StatusCodes.Status401Unauthorized, "invalid_client", "unknown web client or wrong secret");
        }

        var grant = _codes.Redeem(code);
        if (grant is null)
        {
            return DevIdentityProvider.TokenError(StatusCodes.Status400BadRequest, "invalid_grant", "unknown, used or expired code");
        }

        if (!string.Equals(grant.ClientId, client.ClientId, StringComparison.Ordinal))
        {
            return DevIdentityProvider.TokenError(StatusCodes.Status400BadRequest, "invalid_grant", "the code was issued to another client");
        }

        if (!string.Equals(form["redirect_uri"].ToString(), grant.RedirectUri, StringComparison.Ordinal))
        {
            return DevIdentityProvider.TokenError(StatusCodes.Status400BadRequest, "invalid_grant", "redirect_uri differs from the authorization request's");
        }

        if (!VerifierAnswers(form["code_verifier"].ToString(), grant.CodeChallenge))
        {
            return DevIdentityProvider.TokenError(StatusCodes.Status400BadRequest, "invalid_grant", "code_verifier does not match the code_challenge");
        }

        return Results.Json(new Dictionary<string, object>
        {
            ["access_token"] = Mint(grant, idToken: false),
            ["id_token"] = Mint(grant, idToken: true),
            ["token_type"] = "Bearer",
            ["expires_in"] = (int)_options.TokenLifetime.TotalSeconds,
            ["scope"] = string.Join(' ', grant.Scopes),
        });
    }

    /// <summary>RFC 7636 section 4.4: 43 to 128 unreserved characters whose base64url SHA-256 is the challenge.</summary>
    private static bool VerifierAnswers(string verifier, string challenge)
    {
        if (verifier.Length is < 43 or > 128 || !verifier.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or '~'))
        {
            return false;
        }

        var computed = Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));
        return DevIdentityProvider.CryptographicEquals(challenge, computed);
    }

    private IResult Grant(DevAuthorizationRequest request, DevLogin login)
    {
        var code = _codes.Issue(new DevAuthorizationGrant(request.Client.ClientId, request.RedirectUri, request.CodeChallenge, request.Nonce, request.Scopes, login));
        var response = new Dictionary<string, string?> { ["code"] = code };
        if (request.State is not null)
        {
            response["state"] = request.State;
        }

        // RFC 9207: the issuer in the response lets a client with several providers tell which one answered.
        response["iss"] = _authority();
        return Results.Redirect(QueryHelpers.AddQueryString(request.RedirectUri, response));
    }

    private IResult Refuse(DevAuthorizationError error)
    {
        if (error.RedirectUri is null)
        {
            return DevLoginPage.Message("Sign-in request refused", $"{error.Code}: {error.Description}", StatusCodes.Status400BadRequest);
        }

        var response = new Dictionary<string, string?> { ["error"] = error.Code, ["error_description"] = error.Description };
        if (error.State is not null)
        {
            response["state"] = error.State;
        }

        response["iss"] = _authority();
        return Results.Redirect(QueryHelpers.AddQueryString(error.RedirectUri, response));
    }

    // An ID token carries what the client learns of the sign-in; the access token what the gateway's rules read.
    private string Mint(DevAuthorizationGrant grant, bool idToken)
    {
        var now = DateTimeOffset.FromUnixTimeSeconds(_options.TimeProvider.GetUtcNow().ToUnixTimeSeconds());
        var login = grant.Login;
        var claims = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            ["jti"] = Guid.NewGuid().ToString("N"),
            ["sub"] = login.User.Name,
            ["auth_time"] = login.AuthTime.ToUnixTimeSeconds(),
            ["amr"] = login.Amr.ToArray(),
            ["acr"] = login.Acr,
            ["sid"] = login.Sid,
        };

        if (login.User.Groups.Length > 0)
        {
            claims["groups"] = login.User.Groups;
        }

        if (login.User.Roles.Length > 0)
        {
            claims["roles"] = login.User.Roles;
        }

        if (idToken)
        {
            claims["azp"] = grant.ClientId;
            if (grant.Nonce is not null)
            {
                claims["nonce"] = grant.Nonce;
            }

            if (grant.Scopes.Contains("profile", StringComparer.Ordinal))
            {
                claims["name"] = login.User.Name;
                claims["preferred_username"] = login.User.Name;
            }
        }
        else
        {
            claims["client_id"] = grant.ClientId;
            claims["scope"] = string.Join(' ', grant.Scopes);
        }

        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = _authority(),
            Audience = idToken ? grant.ClientId : _options.Audience,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = (now + _options.TokenLifetime).UtcDateTime,
            Claims = claims,
            SigningCredentials = _credentials,
        };
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(descriptor);
    }

    // RP-initiated logout accepts an expired ID token of its own (OpenID Connect RP-Initiated Logout section 2).
    private async Task<(bool Valid, string? Audience, string? Sid)> ReadHintAsync(string hint)
    {
        var result = await new JsonWebTokenHandler().ValidateTokenAsync(hint, new TokenValidationParameters
        {
            ValidIssuer = _authority(),
            ValidAudiences = _options.WebClients.Select(c => c.ClientId),
            IssuerSigningKey = _credentials.Key,
            ValidAlgorithms = [_credentials.Algorithm],
            ValidateLifetime = false,
        });
        if (!result.IsValid)
        {
            return (false, null, null);
        }

        var token = (JsonWebToken)result.SecurityToken;
        return (true, token.Audiences.FirstOrDefault(), token.TryGetPayloadValue<string>("sid", out var sid) ? sid : null);
    }

    private static CookieOptions CookieOptions(HttpContext context) => new()
    {
        HttpOnly = true,
        SameSite = SameSiteMode.Lax,
        Path = "/",
        Secure = context.Request.IsHttps,
        IsEssential = true,
    };
}
