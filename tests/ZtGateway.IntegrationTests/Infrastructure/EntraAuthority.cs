using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace ZtGateway.IntegrationTests.Infrastructure;

/// <summary>
/// An authority shaped like Microsoft Entra ID on 127.0.0.1: tenant-specific discovery at
/// <c>/{tenantId}/v2.0/.well-known/openid-configuration</c>, issuer <c>{instance}{tenantId}/v2.0</c>, a key
/// set whose keys announce their issuer (with the <c>{tenantid}</c> placeholder, as Entra does) and cloud
/// instance, and access tokens for apps (<c>idtyp: app</c>, <c>roles</c>) and users, shaped as a tenant
/// configured for the gateway issues them (see the Entra ID section of docs/guide.md).
/// For browser sign-in it also has a token endpoint that redeems authorization codes for registered web clients
/// (<see cref="AddWebClient"/>): a test plays the person at the authorize page by registering the code the authority
/// would have issued (<see cref="IssueAuthorizationCode"/>), and the endpoint checks what Entra checks (grant type,
/// client secret, code used once, redirect URI, PKCE S256) before it answers with a v2.0 ID token.
/// </summary>
public sealed class EntraAuthority : IAsyncDisposable
{
    public const string TenantId = "11111111-2222-3333-4444-555555555555";
    public const string OtherTenantId = "99999999-8888-7777-6666-555555555555";
    public const string Audience = "api://ztgw";
    public const string CloudInstance = "microsoftonline.com";

    /// <summary>How long an authorization code can be redeemed (Entra: about 10 minutes).</summary>
    public static readonly TimeSpan CodeLifetime = TimeSpan.FromMinutes(10);

    private readonly RSA _rsa = RSA.Create(2048);
    private readonly RsaSecurityKey _key;
    private readonly ConcurrentDictionary<string, string> _webClients = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, IssuedCode> _codes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _redeemed = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<TokenRequestRecord> _tokenRequests = new();
    private WebApplication? _app;

    private EntraAuthority()
    {
        _key = new RsaSecurityKey(_rsa) { KeyId = "entra-key-" + Guid.NewGuid().ToString("N")[..8] };
    }

    /// <summary>The cloud instance, what an operator sets as <c>instance</c>.</summary>
    public string Instance { get; private set; } = string.Empty;

    public string Issuer => Instance + TenantId + "/v2.0";

    public string V1Issuer => $"https://sts.windows.net/{TenantId}/";

    /// <summary>The authorize endpoint of discovery, where a browser is sent to sign in.</summary>
    public string AuthorizationEndpoint => Instance + TenantId + "/oauth2/v2.0/authorize";

    /// <summary>The token endpoint of discovery, where a web client redeems a code.</summary>
    public string TokenEndpoint => Instance + TenantId + "/oauth2/v2.0/token";

    /// <summary>The end-session endpoint of discovery.</summary>
    public string EndSessionEndpoint => Instance + TenantId + "/oauth2/v2.0/logout";

    /// <summary>Every request the token endpoint answered, in order, with what it answered.</summary>
    public IReadOnlyList<TokenRequestRecord> TokenRequests => [.. _tokenRequests];

    /// <summary>The tenant the signing key is announced for: <c>{tenantid}</c> (whichever tenant the token names), as Entra does.</summary>
    public string KeyIssuerTenant { get; private init; } = "{tenantid}";

    /// <param name="keyIssuerTenant">Announce the signing key for this tenant instead of the <c>{tenantid}</c> placeholder.</param>
    public static async Task<EntraAuthority> StartAsync(string? keyIssuerTenant = null)
    {
        var authority = new EntraAuthority { KeyIssuerTenant = keyIssuerTenant ?? "{tenantid}" };
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.MapGet("/{tenant}/v2.0/.well-known/openid-configuration", (string tenant) => tenant == TenantId
            ? Results.Json(new Dictionary<string, object>
            {
                ["issuer"] = authority.Issuer,
                ["jwks_uri"] = authority.Instance + TenantId + "/discovery/v2.0/keys",
                ["authorization_endpoint"] = authority.AuthorizationEndpoint,
                ["token_endpoint"] = authority.TokenEndpoint,
                ["token_endpoint_auth_methods_supported"] = new[] { "client_secret_post", "private_key_jwt", "client_secret_basic" },
                ["end_session_endpoint"] = authority.EndSessionEndpoint,
                ["response_modes_supported"] = new[] { "query", "fragment", "form_post" },
                ["response_types_supported"] = new[] { "code", "id_token", "code id_token", "id_token token" },
                ["subject_types_supported"] = new[] { "pairwise" },
                ["scopes_supported"] = new[] { "openid", "profile", "email", "offline_access" },
                ["request_uri_parameter_supported"] = false,
                ["http_logout_supported"] = true,
                ["frontchannel_logout_supported"] = true,
                ["id_token_signing_alg_values_supported"] = new[] { "RS256" },
                ["tenant_region_scope"] = "EU",
                ["cloud_instance_name"] = CloudInstance,
            })
            : Results.NotFound());
        app.MapGet("/{tenant}/discovery/v2.0/keys", (string tenant) => tenant == TenantId ? Results.Text(authority.Jwks(), "application/json") : Results.NotFound());
        app.MapPost("/{tenant}/oauth2/v2.0/token", (Func<HttpContext, Task<IResult>>)authority.RedeemAsync);
        await app.StartAsync();
        authority._app = app;
        authority.Instance = app.Urls.First().TrimEnd('/') + "/";
        return authority;
    }

    /// <summary>An app-only token (client credentials) of the app <paramref name="appId"/>.</summary>
    public string AppToken(DateTimeOffset now, string appId, string[] roles, string? issuer = null, string? tenantId = null, string? audience = null)
    {
        var objectId = Guid.NewGuid().ToString();
        return Sign(now, issuer ?? Issuer, audience ?? Audience, new Dictionary<string, object>
        {
            ["sub"] = objectId,
            ["oid"] = objectId,
            ["azp"] = appId,
            ["azpacr"] = "1",
            ["idtyp"] = "app",
            ["roles"] = roles,
            ["tid"] = tenantId ?? TenantId,
            ["ver"] = "2.0",
        });
    }

    /// <summary>
    /// A delegated token of a user signed in to the client <paramref name="clientId"/>. Version 1.0 (the
    /// API's <c>accessTokenAcceptedVersion</c> left at 1) carries <c>amr</c>; 2.0 tokens do not. Both carry
    /// <c>auth_time</c> and <c>groups</c> only as configured optional claims, which this tenant has.
    /// </summary>
    public string UserToken(DateTimeOffset now, string name, string clientId, string[] groups, string[] amr, string version = "1.0", TimeSpan? authAge = null)
    {
        var claims = new Dictionary<string, object>
        {
            ["sub"] = "pairwise-" + name,
            ["oid"] = Guid.NewGuid().ToString(),
            ["groups"] = groups,
            ["auth_time"] = (now - (authAge ?? TimeSpan.FromMinutes(10))).ToUnixTimeSeconds(),
            ["scp"] = "Ledger.Read",
            ["tid"] = TenantId,
            ["ver"] = version,
        };
        if (version == "1.0")
        {
            claims["appid"] = clientId;
            claims["amr"] = amr;
            claims["upn"] = name + "@corp.example";
        }
        else
        {
            claims["azp"] = clientId;
            claims["preferred_username"] = name + "@corp.example";
            claims["sid"] = Guid.NewGuid().ToString();
        }

        return Sign(now, version == "1.0" ? V1Issuer : Issuer, Audience, claims);
    }

    /// <summary>Registers a confidential web client (an app registration with a client secret).</summary>
    public void AddWebClient(string clientId, string clientSecret)
    {
        ArgumentException.ThrowIfNullOrEmpty(clientId);
        ArgumentException.ThrowIfNullOrEmpty(clientSecret);
        _webClients[clientId] = clientSecret;
    }

    /// <summary>
    /// The code the authorize endpoint would send back to <paramref name="redirectUri"/> once <paramref name="user"/>
    /// signed in, bound to what the authorization request named: one use, for <see cref="CodeLifetime"/>.
    /// </summary>
    public string IssueAuthorizationCode(string clientId, string redirectUri, string codeChallenge, string nonce, EntraSignInUser user)
    {
        ArgumentNullException.ThrowIfNull(user);
        var code = "1.AQ" + Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(48));
        _codes[code] = new IssuedCode(clientId, redirectUri, codeChallenge, nonce, user, DateTimeOffset.UtcNow + CodeLifetime);
        return code;
    }

    /// <summary>The PKCE S256 challenge of <paramref name="codeVerifier"/>: base64url(SHA-256(ASCII(verifier))).</summary>
    public static string S256(string codeVerifier) => Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(codeVerifier)));

    // POST /{tenant}/oauth2/v2.0/token: the authorization code grant of a confidential client, answered as Entra does
    // (400 invalid_request/invalid_grant/unsupported_grant_type, 401 invalid_client).
    private async Task<IResult> RedeemAsync(HttpContext context)
    {
        var tenant = context.Request.RouteValues["tenant"] as string;
        if (tenant != TenantId)
        {
            return Refuse(null, "none", 400, "invalid_request", "AADSTS90002: Tenant '" + tenant + "' not found.");
        }

        if (!context.Request.HasFormContentType)
        {
            return Refuse(null, "none", 400, "invalid_request", "AADSTS900144: The request body must contain the following parameter: 'grant_type'.");
        }

        var form = await context.Request.ReadFormAsync(context.RequestAborted);
        string? Single(string name) => form.TryGetValue(name, out var values) && values.Count == 1 ? values[0] : null;

        // Client authentication: client_secret_basic or client_secret_post, never both.
        string? clientId;
        string? secret;
        string method;
        if (AuthenticationHeaderValue.TryParse(context.Request.Headers.Authorization.ToString(), out var header)
            && string.Equals(header.Scheme, "Basic", StringComparison.OrdinalIgnoreCase))
        {
            if (form.ContainsKey("client_secret"))
            {
                return Refuse(null, "client_secret_basic", 400, "invalid_request", "more than one client authentication method");
            }

            method = "client_secret_basic";
            var pair = header.Parameter is null ? null : TryDecodeBasic(header.Parameter);
            if (pair is null)
            {
                return Refuse(null, method, 401, "invalid_client", "malformed Basic credentials");
            }

            (clientId, secret) = pair.Value;
            if (Single("client_id") is { } formClient && formClient != clientId)
            {
                return Refuse(clientId, method, 400, "invalid_request", "client_id differs from the authenticated client");
            }
        }
        else
        {
            method = "client_secret_post";
            clientId = Single("client_id");
            secret = Single("client_secret");
        }

        if (Single("grant_type") != "authorization_code")
        {
            return Refuse(clientId, method, 400, "unsupported_grant_type", "AADSTS70003: The app requested an unsupported grant type.");
        }

        if (string.IsNullOrEmpty(clientId) || !_webClients.TryGetValue(clientId, out var expected))
        {
            return Refuse(clientId, method, 400, "unauthorized_client", "AADSTS700016: Application '" + clientId + "' was not found in the directory.");
        }

        if (string.IsNullOrEmpty(secret) || !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(expected)))
        {
            return Refuse(clientId, method, 401, "invalid_client", "AADSTS7000215: Invalid client secret provided.");
        }

        var code = Single("code");
        if (string.IsNullOrEmpty(code))
        {
            return Refuse(clientId, method, 400, "invalid_request", "AADSTS900144: The request body must contain the following parameter: 'code'.");
        }

        // One use: whatever happens next, the code is spent.
        if (!_codes.TryRemove(code, out var issued))
        {
            return _redeemed.ContainsKey(code)
                ? Refuse(clientId, method, 400, "invalid_grant", "AADSTS54005: OAuth2 Authorization code was already redeemed.")
                : Refuse(clientId, method, 400, "invalid_grant", "AADSTS9002313: Invalid request. The code is malformed or unknown.");
        }

        _redeemed[code] = 0;
        if (DateTimeOffset.UtcNow > issued.Expires)
        {
            return Refuse(clientId, method, 400, "invalid_grant", "AADSTS70008: The provided authorization code has expired.");
        }

        if (issued.ClientId != clientId)
        {
            return Refuse(clientId, method, 400, "invalid_grant", "the code was issued to another client");
        }

        if (Single("redirect_uri") != issued.RedirectUri)
        {
            return Refuse(clientId, method, 400, "invalid_grant", "The redirect_uri does not match the one of the authorization request.");
        }

        var verifier = Single("code_verifier");
        if (string.IsNullOrEmpty(verifier))
        {
            return Refuse(clientId, method, 400, "invalid_grant", "The request body must contain the parameter code_verifier: the authorization request had a code_challenge.");
        }

        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(S256(verifier)), Encoding.ASCII.GetBytes(issued.CodeChallenge)))
        {
            return Refuse(clientId, method, 400, "invalid_grant", "AADSTS501481: The Code_Verifier does not match the code_challenge supplied in the authorization request.");
        }

        var now = DateTimeOffset.UtcNow;
        var idToken = IdToken(now, clientId, issued.Nonce, issued.User);
        var accessToken = Sign(now, Issuer, "00000003-0000-0000-c000-000000000000", new Dictionary<string, object>
        {
            ["sub"] = issued.User.Subject,
            ["oid"] = issued.User.ObjectId,
            ["tid"] = TenantId,
            ["azp"] = clientId,
            ["scp"] = "openid profile",
            ["ver"] = "2.0",
        });
        _tokenRequests.Enqueue(new TokenRequestRecord(clientId, method, 200, null, null));
        return Results.Json(new Dictionary<string, object>
        {
            ["token_type"] = "Bearer",
            ["scope"] = "openid profile",
            ["expires_in"] = 3600,
            ["ext_expires_in"] = 3600,
            ["access_token"] = accessToken,
            ["id_token"] = idToken,
        });
    }

    // A v2.0 ID token, with the optional claims this tenant's app registration asks for (groups, auth_time).
    private string IdToken(DateTimeOffset now, string clientId, string nonce, EntraSignInUser user)
    {
        var claims = new Dictionary<string, object>
        {
            ["aio"] = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(24)),
            ["name"] = user.DisplayName,
            ["nonce"] = nonce,
            ["oid"] = user.ObjectId,
            ["preferred_username"] = user.Name + "@corp.example",
            ["rh"] = "0.AQ" + Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(24)) + ".",
            ["sid"] = user.SessionId,
            ["sub"] = user.Subject,
            ["tid"] = user.TenantId ?? TenantId,
            ["uti"] = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(16)),
            ["ver"] = "2.0",
        };
        if (user.Groups.Length > 0)
        {
            claims["groups"] = user.Groups;
        }

        if (user.AuthAge is { } age)
        {
            claims["auth_time"] = (now - age).ToUnixTimeSeconds();
        }

        return Sign(now, Issuer, clientId, claims);
    }

    private static (string ClientId, string Secret)? TryDecodeBasic(string parameter)
    {
        try
        {
            var text = Encoding.UTF8.GetString(Convert.FromBase64String(parameter));
            var colon = text.IndexOf(':', StringComparison.Ordinal);
            return colon <= 0 ? null : (Uri.UnescapeDataString(text[..colon]), Uri.UnescapeDataString(text[(colon + 1)..]));
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private IResult Refuse(string? clientId, string method, int status, string error, string description)
    {
        _tokenRequests.Enqueue(new TokenRequestRecord(clientId, method, status, error, description));
        return Results.Json(new Dictionary<string, object>
        {
            ["error"] = error,
            ["error_description"] = description,
            ["timestamp"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd HH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture),
        }, statusCode: status);
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        _rsa.Dispose();
    }

    private string Sign(DateTimeOffset now, string issuer, string audience, Dictionary<string, object> claims)
    {
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = now.AddHours(1).UtcDateTime,
            Claims = claims,
            SigningCredentials = new SigningCredentials(_key, SecurityAlgorithms.RsaSha256),
        };
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(descriptor);
    }

    private sealed record IssuedCode(string ClientId, string RedirectUri, string CodeChallenge, string Nonce, EntraSignInUser User, DateTimeOffset Expires);

    private string Jwks()
    {
        var parameters = _rsa.ExportParameters(false);
        return JsonSerializer.Serialize(new
        {
            keys = new[]
            {
                new Dictionary<string, string>
                {
                    ["kty"] = "RSA",
                    ["use"] = "sig",
                    ["kid"] = _key.KeyId,
                    ["n"] = Base64UrlEncoder.Encode(parameters.Modulus),
                    ["e"] = Base64UrlEncoder.Encode(parameters.Exponent),
                    ["issuer"] = Instance + KeyIssuerTenant + "/v2.0",
                    ["cloud_instance_name"] = CloudInstance,
                },
            },
        });
    }
}

/// <summary>A person of the tenant signing in at <see cref="EntraAuthority"/>'s authorize page.</summary>
/// <param name="Name">The user name (its <c>preferred_username</c> is <c>NAME@corp.example</c>).</param>
/// <param name="Groups">The group claims (object ids in a real tenant; names here).</param>
public sealed record EntraSignInUser(string Name, string[] Groups)
{
    /// <summary>The pairwise <c>sub</c> of this user for the web client.</summary>
    public string Subject { get; init; } = "pairwise-" + Name;

    public string ObjectId { get; init; } = Guid.NewGuid().ToString();

    public string SessionId { get; init; } = Guid.NewGuid().ToString();

    public string DisplayName => Name[..1].ToUpperInvariant() + Name[1..] + " Example";

    /// <summary>How long ago the user authenticated (<c>auth_time</c>, an optional claim); null leaves the claim out.</summary>
    public TimeSpan? AuthAge { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>The <c>tid</c> of the ID token; null for the authority's tenant.</summary>
    public string? TenantId { get; init; }
}

/// <summary>One request to the token endpoint and its answer: 200, or the OAuth error it got.</summary>
public sealed record TokenRequestRecord(string? ClientId, string ClientAuthentication, int Status, string? Error, string? ErrorDescription);
