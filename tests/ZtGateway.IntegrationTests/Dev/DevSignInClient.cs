using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace ZtGateway.IntegrationTests.Dev;

/// <summary>
/// A browser (cookies kept, redirects not followed, so each hop can be checked) and the confidential web client it signs
/// in to, driving the development identity provider over real HTTP.
/// </summary>
public sealed partial class DevSignInClient : IDisposable
{
    public const string ClientId = "ztgw-web";
    public const string Secret = "dev-web-secret";

    private readonly HttpClient _browser;
    private readonly HttpClient _backChannel = new();

    public DevSignInClient(string authority, int callbackPort = 8081)
    {
        Authority = authority;
        RedirectUri = $"http://127.0.0.1:{callbackPort}/.ztgw/callback";
        _browser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = true, CookieContainer = Cookies });
    }

    public string Authority { get; }

    public string RedirectUri { get; }

    public CookieContainer Cookies { get; } = new();

    /// <summary>A fresh PKCE pair: a 43-character verifier and its S256 challenge.</summary>
    public static (string Verifier, string Challenge) Pkce()
    {
        var verifier = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));
        return (verifier, Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))));
    }

    /// <summary>The query of an authorization request for <see cref="ClientId"/>; <paramref name="change"/> edits it (null removes).</summary>
    public Dictionary<string, string?> Request(string challenge, string state = "st-1", string nonce = "n-1", params (string Key, string? Value)[] change)
    {
        var query = new Dictionary<string, string?>
        {
            ["client_id"] = ClientId,
            ["redirect_uri"] = RedirectUri,
            ["response_type"] = "code",
            ["scope"] = "openid profile",
            ["state"] = state,
            ["nonce"] = nonce,
            ["code_challenge"] = challenge,
            ["code_challenge_method"] = "S256",
        };
        foreach (var (key, value) in change)
        {
            query[key] = value;
        }

        return query.Where(p => p.Value is not null).ToDictionary();
    }

    public async Task<HttpResponseMessage> AuthorizeAsync(Dictionary<string, string?> query)
        => await _browser.GetAsync(QueryHelpers.AddQueryString(Authority + "/authorize", query));

    /// <summary>Submits the login form of <paramref name="formPage"/> with the hidden fields it carries.</summary>
    public async Task<HttpResponseMessage> LoginAsync(HttpResponseMessage formPage, string user, string password, bool mfa, string action = "login")
        => await _browser.PostAsync(Authority + "/authorize", new FormUrlEncodedContent(await FormFieldsAsync(formPage, user, password, mfa, action)));

    /// <summary>What a browser posts from the login form of <paramref name="formPage"/>: its hidden fields and the answers.</summary>
    public async Task<List<KeyValuePair<string, string>>> FormFieldsAsync(HttpResponseMessage formPage, string user, string password, bool mfa, string action = "login")
    {
        var html = await formPage.Content.ReadAsStringAsync();
        var fields = HiddenField().Matches(html)
            .Select(m => KeyValuePair.Create(WebUtility.HtmlDecode(m.Groups[1].Value), WebUtility.HtmlDecode(m.Groups[2].Value)))
            .ToList();
        fields.Add(KeyValuePair.Create("username", user));
        fields.Add(KeyValuePair.Create("password", password));
        fields.Add(KeyValuePair.Create("action", action));
        if (mfa)
        {
            fields.Add(KeyValuePair.Create("mfa", "true"));
        }

        return fields;
    }

    public async Task<HttpResponseMessage> LogoutAsync(params (string Key, string Value)[] query)
        => await _browser.GetAsync(QueryHelpers.AddQueryString(Authority + "/logout", query.Select(q => KeyValuePair.Create(q.Key, (string?)q.Value))));

    /// <summary>A full sign-in: the form, the login, the callback's code, and the code exchanged for tokens.</summary>
    public async Task<TokenAnswer> SignInAsync(string user, bool mfa, string nonce = "n-1")
    {
        var (verifier, challenge) = Pkce();
        using var form = await AuthorizeAsync(Request(challenge, nonce: nonce));
        Assert.Equal(HttpStatusCode.OK, form.StatusCode);
        using var callback = await LoginAsync(form, user, "dev", mfa);
        var code = Callback(callback)["code"];
        return await ExchangeAsync(code, verifier);
    }

    /// <summary>The query of the redirect to <see cref="RedirectUri"/>; fails when the answer is not one.</summary>
    public Dictionary<string, string> Callback(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var location = response.Headers.Location!.ToString();
        Assert.StartsWith(RedirectUri + "?", location, StringComparison.Ordinal);
        return QueryHelpers.ParseQuery(new Uri(location).Query).ToDictionary(p => p.Key, p => p.Value.ToString());
    }

    /// <summary>The code grant with <c>client_secret_post</c>, or <c>client_secret_basic</c> when <paramref name="basic"/>.</summary>
    public async Task<TokenAnswer> ExchangeAsync(string code, string verifier, string? redirectUri = null, string secret = Secret, bool basic = false)
    {
        var form = new List<KeyValuePair<string, string>>
        {
            new("grant_type", "authorization_code"),
            new("code", code),
            new("redirect_uri", redirectUri ?? RedirectUri),
            new("code_verifier", verifier),
        };
        using var request = new HttpRequestMessage(HttpMethod.Post, Authority + "/token");
        if (basic)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{ClientId}:{secret}")));
        }
        else
        {
            form.Add(new("client_id", ClientId));
            form.Add(new("client_secret", secret));
        }

        request.Content = new FormUrlEncodedContent(form);
        using var response = await _backChannel.SendAsync(request);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = json.RootElement;
        string? Text(string name) => root.TryGetProperty(name, out var value) ? value.GetString() : null;
        return new TokenAnswer(response.StatusCode, Text("error"), Text("id_token"), Text("access_token"), Text("token_type"),
            response.Headers.CacheControl?.NoStore == true);
    }

    /// <summary>Verifies <paramref name="token"/> against the provider's published <c>/jwks</c>, issuer and <paramref name="audience"/>.</summary>
    public async Task<JsonWebToken> VerifyAsync(string token, string audience = ClientId)
    {
        var jwks = new JsonWebKeySet(await _backChannel.GetStringAsync(Authority + "/jwks"));
        var result = await new JsonWebTokenHandler().ValidateTokenAsync(token, new TokenValidationParameters
        {
            ValidIssuer = Authority,
            ValidAudience = audience,
            IssuerSigningKeys = jwks.Keys,
            ValidAlgorithms = ["RS256"],
        });
        Assert.True(result.IsValid, result.Exception?.Message);
        return (JsonWebToken)result.SecurityToken;
    }

    public async Task<JsonDocument> DiscoveryAsync()
        => JsonDocument.Parse(await _backChannel.GetStringAsync(Authority + "/.well-known/openid-configuration"));

    public void Dispose()
    {
        _browser.Dispose();
        _backChannel.Dispose();
    }

    [GeneratedRegex("<input type=\"hidden\" name=\"([^\"]*)\" value=\"([^\"]*)\">")]
    private static partial Regex HiddenField();
}

/// <summary>What the token endpoint answered to a code grant.</summary>
public sealed record TokenAnswer(HttpStatusCode Status, string? Error, string? IdToken, string? AccessToken, string? TokenType, bool NoStore);
