using System.Net;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.Tokens;
using ZtGateway.DevTools;

namespace ZtGateway.IntegrationTests.Dev;

/// <summary>Browser sign-in at the development OpenID Provider: a real listener, a browser and a web client over HTTP.</summary>
public sealed class DevSignInTests : IAsyncLifetime
{
    private readonly string _keyDirectory = Path.Combine(Path.GetTempPath(), "ztgw-devsignin-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private DevIdentityProvider _idp = null!;
    private DevSignInClient _client = null!;

    public async Task InitializeAsync()
    {
        _idp = await DevIdentityProvider.StartAsync(new DevIdentityProviderOptions
        {
            Listen = "http://127.0.0.1:0",
            KeyFile = Path.Combine(_keyDirectory, "dev-idp.key.pem"),
            TimeProvider = _time,
        }, NullLoggerFactory.Instance, CancellationToken.None);
        _client = new DevSignInClient(_idp.Authority);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _idp.DisposeAsync();
        Directory.Delete(_keyDirectory, recursive: true);
    }

    [Fact]
    public async Task Discovery_AnnouncesTheBrowserSignIn()
    {
        using var discovery = await _client.DiscoveryAsync();
        var root = discovery.RootElement;
        string[] Strings(string name) => root.GetProperty(name).EnumerateArray().Select(e => e.GetString()!).ToArray();

        Assert.Equal(_idp.Authority + "/authorize", root.GetProperty("authorization_endpoint").GetString());
        Assert.Equal(_idp.Authority + "/logout", root.GetProperty("end_session_endpoint").GetString());
        Assert.Equal(["code"], Strings("response_types_supported"));
        Assert.Equal(["S256"], Strings("code_challenge_methods_supported"));
        Assert.Equal([DevLogin.PasswordAcr, DevLogin.MfaAcr], Strings("acr_values_supported"));
        Assert.Contains("authorization_code", Strings("grant_types_supported"));
        Assert.Equal(["client_secret_post", "client_secret_basic"], Strings("token_endpoint_auth_methods_supported"));
    }

    [Theory]
    [InlineData(true, new[] { "pwd", "otp", "mfa" }, DevLogin.MfaAcr)]
    [InlineData(false, new[] { "pwd" }, DevLogin.PasswordAcr)]
    public async Task SignIn_GivesAnIdToken_SignedByTheJwksKey_WithMfaOnlyWhenChecked(bool mfa, string[] amr, string acr)
    {
        var (verifier, challenge) = DevSignInClient.Pkce();
        using var form = await _client.AuthorizeAsync(_client.Request(challenge, state: "s-42", nonce: "nonce-7"));
        Assert.Equal(HttpStatusCode.OK, form.StatusCode);
        Assert.Contains("Use MFA", await form.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var callback = await _client.LoginAsync(form, "paula", "dev", mfa);
        var query = _client.Callback(callback);
        Assert.Equal("s-42", query["state"]);
        Assert.Equal(_idp.Authority, query["iss"]);
        var answer = await _client.ExchangeAsync(query["code"], verifier);

        Assert.Equal(HttpStatusCode.OK, answer.Status);
        Assert.Equal("Bearer", answer.TokenType);
        Assert.True(answer.NoStore);
        var id = await _client.VerifyAsync(answer.IdToken!);
        Assert.Equal("paula", id.Subject);
        Assert.Equal("nonce-7", id.GetPayloadValue<string>("nonce"));
        Assert.Equal(amr, id.Claims.Where(c => c.Type == "amr").Select(c => c.Value));
        Assert.Equal(mfa, id.Claims.Any(c => c.Type == "amr" && c.Value == "mfa"));
        Assert.Equal(acr, id.GetPayloadValue<string>("acr"));
        Assert.Equal(["hr-staff"], id.Claims.Where(c => c.Type == "groups").Select(c => c.Value));
        Assert.Equal(["PayrollAdmin"], id.Claims.Where(c => c.Type == "roles").Select(c => c.Value));
        Assert.Equal(_time.GetUtcNow().ToUnixTimeSeconds(), id.GetPayloadValue<long>("auth_time"));
        Assert.Equal(_time.GetUtcNow().ToUnixTimeSeconds(), id.GetPayloadValue<long>("iat"));
        Assert.False(string.IsNullOrEmpty(id.GetPayloadValue<string>("sid")));

        var access = await _client.VerifyAsync(answer.AccessToken!, audience: "ztgw");
        Assert.Equal("paula", access.Subject);
        Assert.Equal(id.GetPayloadValue<string>("sid"), access.GetPayloadValue<string>("sid"));
        Assert.False(access.TryGetPayloadValue<string>("nonce", out _));
    }

    [Fact]
    public async Task Code_IsRedeemedOnceOnly()
    {
        var (verifier, code) = await CodeAsync("alice", mfa: true);

        Assert.Equal(HttpStatusCode.OK, (await _client.ExchangeAsync(code, verifier)).Status);
        var again = await _client.ExchangeAsync(code, verifier);

        Assert.Equal(HttpStatusCode.BadRequest, again.Status);
        Assert.Equal("invalid_grant", again.Error);
        Assert.Null(again.IdToken);
    }

    [Fact]
    public async Task WrongVerifier_IsRefused_AndTheCodeIsGone()
    {
        var (verifier, code) = await CodeAsync("alice", mfa: true);

        var wrong = await _client.ExchangeAsync(code, DevSignInClient.Pkce().Verifier);
        Assert.Equal(("invalid_grant", (string?)null), (wrong.Error, wrong.IdToken));
        Assert.Equal("invalid_grant", (await _client.ExchangeAsync(code, verifier)).Error);
    }

    [Fact]
    public async Task OtherRedirectUri_AtTheTokenEndpoint_IsRefused()
    {
        var (verifier, code) = await CodeAsync("alice", mfa: false);

        var answer = await _client.ExchangeAsync(code, verifier, redirectUri: "http://127.0.0.1:9999/.ztgw/callback");

        Assert.Equal("invalid_grant", answer.Error);
    }

    [Fact]
    public async Task WrongSecret_IsRefused_BeforeTheCodeIsTouched_AndBasicAuthWorks()
    {
        var (verifier, code) = await CodeAsync("alice", mfa: false);

        var wrong = await _client.ExchangeAsync(code, verifier, secret: "guess");
        Assert.Equal((HttpStatusCode.Unauthorized, "invalid_client"), (wrong.Status, wrong.Error));

        var right = await _client.ExchangeAsync(code, verifier, basic: true);
        Assert.Equal(HttpStatusCode.OK, right.Status);
        Assert.NotNull(right.IdToken);
    }

    [Fact]
    public async Task Code_ExpiresAfterSixtySeconds()
    {
        var (verifier, code) = await CodeAsync("alice", mfa: false);

        _time.Advance(TimeSpan.FromSeconds(61));

        Assert.Equal("invalid_grant", (await _client.ExchangeAsync(code, verifier)).Error);
    }

    [Theory]
    [InlineData("ztgw-web", "http://evil.example/.ztgw/callback")]
    [InlineData("ztgw-web", "http://127.0.0.1:8081/elsewhere")]
    [InlineData("ztgw-web", "http://127.0.0.1:8081/.ztgw/callback?next=/")]
    [InlineData("ztgw-web", "http://127.0.0.1.evil.example:8081/.ztgw/callback")]
    [InlineData("ztgw-web", null)]
    [InlineData("unknown-client", "http://127.0.0.1:8081/.ztgw/callback")]
    [InlineData("ledger-sync", "http://127.0.0.1:8081/.ztgw/callback")]
    public async Task BadClientOrRedirectUri_GetsA400Page_NeverARedirect(string clientId, string? redirectUri)
    {
        var (_, challenge) = DevSignInClient.Pkce();

        using var response = await _client.AuthorizeAsync(_client.Request(challenge, change: [("client_id", clientId), ("redirect_uri", redirectUri)]));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Null(response.Headers.Location);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("code_challenge", null, "invalid_request")]
    [InlineData("code_challenge_method", null, "invalid_request")]
    [InlineData("code_challenge_method", "plain", "invalid_request")]
    [InlineData("response_type", "token", "unsupported_response_type")]
    [InlineData("response_mode", "fragment", "invalid_request")]
    [InlineData("scope", "profile", "invalid_scope")]
    [InlineData("max_age", "soon", "invalid_request")]
    [InlineData("prompt", "none login", "invalid_request")]
    [InlineData("request_uri", "urn:example:request", "request_uri_not_supported")]
    public async Task BadRequest_WithAGoodRedirectUri_GoesBackWithAnError(string parameter, string? value, string error)
    {
        var (_, challenge) = DevSignInClient.Pkce();

        using var response = await _client.AuthorizeAsync(_client.Request(challenge, state: "s-9", change: [(parameter, value)]));
        var query = _client.Callback(response);

        Assert.Equal(error, query["error"]);
        Assert.Equal("s-9", query["state"]);
        Assert.False(query.ContainsKey("code"));
    }

    [Fact]
    public async Task WrongPassword_ShowsTheFormAgain_AndNoCode()
    {
        var (_, challenge) = DevSignInClient.Pkce();
        using var form = await _client.AuthorizeAsync(_client.Request(challenge));

        using var again = await _client.LoginAsync(form, "alice", "guess", mfa: true);

        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Null(again.Headers.Location);
        Assert.Contains("wrong password", await again.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var unknown = await _client.LoginAsync(form, "mallory", "dev", mfa: false);
        Assert.Null(unknown.Headers.Location);
    }

    [Fact]
    public async Task Cancel_GoesBackAsAccessDenied()
    {
        var (_, challenge) = DevSignInClient.Pkce();
        using var form = await _client.AuthorizeAsync(_client.Request(challenge, state: "s-3"));

        using var response = await _client.LoginAsync(form, "alice", "dev", mfa: false, action: "cancel");
        var query = _client.Callback(response);

        Assert.Equal(("access_denied", "s-3"), (query["error"], query["state"]));
    }

    [Fact]
    public async Task TamperedHiddenFields_AreCheckedAgain()
    {
        var (_, challenge) = DevSignInClient.Pkce();
        using var form = await _client.AuthorizeAsync(_client.Request(challenge));
        var html = await form.Content.ReadAsStringAsync();
        var tampered = new HttpResponseMessage { Content = new StringContent(html.Replace(WebUtility.HtmlEncode(_client.RedirectUri), "http://evil.example/.ztgw/callback", StringComparison.Ordinal)) };

        using var response = await _client.LoginAsync(tampered, "alice", "dev", mfa: true);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Null(response.Headers.Location);
    }

    [Fact]
    public async Task RememberedSignIn_SkipsTheForm_UnlessPromptLogin_MaxAgePassed_OrMfaAskedFor()
    {
        var (verifier, code) = await CodeAsync("erin", mfa: false);
        var first = await _client.VerifyAsync((await _client.ExchangeAsync(code, verifier)).IdToken!);
        _time.Advance(TimeSpan.FromMinutes(2));

        var (again, challenge) = DevSignInClient.Pkce();
        using var silent = await _client.AuthorizeAsync(_client.Request(challenge, nonce: "n-2"));
        var second = await _client.VerifyAsync((await _client.ExchangeAsync(_client.Callback(silent)["code"], again)).IdToken!);
        Assert.Equal("n-2", second.GetPayloadValue<string>("nonce"));
        Assert.Equal(first.GetPayloadValue<long>("auth_time"), second.GetPayloadValue<long>("auth_time"));
        Assert.Equal(first.GetPayloadValue<string>("sid"), second.GetPayloadValue<string>("sid"));

        using (var none = await _client.AuthorizeAsync(_client.Request(challenge, change: [("prompt", "none")])))
        {
            Assert.True(_client.Callback(none).ContainsKey("code"));
        }

        foreach (var change in new (string, string?)[] { ("prompt", "login"), ("max_age", "60"), ("max_age", "0"), ("acr_values", DevLogin.MfaAcr) })
        {
            using var form = await _client.AuthorizeAsync(_client.Request(challenge, change: [change]));
            Assert.Equal(HttpStatusCode.OK, form.StatusCode);
            Assert.Contains("name=\"password\"", await form.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using var withinMaxAge = await _client.AuthorizeAsync(_client.Request(challenge, change: [("max_age", "600")]));
        Assert.True(_client.Callback(withinMaxAge).ContainsKey("code"));
    }

    [Fact]
    public async Task PromptNone_WithoutASignIn_IsLoginRequired()
    {
        var (_, challenge) = DevSignInClient.Pkce();

        using var response = await _client.AuthorizeAsync(_client.Request(challenge, state: "s-5", change: [("prompt", "none")]));
        var query = _client.Callback(response);

        Assert.Equal(("login_required", "s-5"), (query["error"], query["state"]));
    }

    [Fact]
    public async Task Logout_ForgetsTheSignIn_AndRedirectsWithState()
    {
        var (verifier, code) = await CodeAsync("alice", mfa: true);
        var idToken = (await _client.ExchangeAsync(code, verifier)).IdToken!;

        using var logout = await _client.LogoutAsync(("id_token_hint", idToken), ("post_logout_redirect_uri", "http://127.0.0.1:8081/.ztgw/signed-out"), ("state", "bye"));

        Assert.Equal(HttpStatusCode.Redirect, logout.StatusCode);
        Assert.Equal("http://127.0.0.1:8081/.ztgw/signed-out?state=bye", logout.Headers.Location!.ToString());
        var (_, challenge) = DevSignInClient.Pkce();
        using var none = await _client.AuthorizeAsync(_client.Request(challenge, change: [("prompt", "none")]));
        Assert.Equal("login_required", _client.Callback(none)["error"]);
    }

    [Fact]
    public async Task Logout_ByIdTokenSid_EndsTheSessionInEveryBrowser()
    {
        var (verifier, code) = await CodeAsync("alice", mfa: true);
        var idToken = (await _client.ExchangeAsync(code, verifier)).IdToken!;

        // Another browser (no cookie of the first) signs the session out by the ID token alone.
        using (var other = new DevSignInClient(_idp.Authority))
        using (var signedOut = await other.LogoutAsync(("id_token_hint", idToken)))
        {
            Assert.Equal(HttpStatusCode.OK, signedOut.StatusCode);
            Assert.Contains("signed out", await signedOut.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        var (_, challenge) = DevSignInClient.Pkce();
        using var none = await _client.AuthorizeAsync(_client.Request(challenge, change: [("prompt", "none")]));
        Assert.Equal("login_required", _client.Callback(none)["error"]);
    }

    [Theory]
    [InlineData("post_logout_redirect_uri", "http://evil.example/")]
    [InlineData("post_logout_redirect_uri", "javascript:alert(1)")]
    [InlineData("id_token_hint", "not-a-token")]
    public async Task Logout_RefusesAnOffLoopbackRedirectOrAForeignHint(string parameter, string value)
    {
        var (verifier, code) = await CodeAsync("alice", mfa: true);
        await _client.ExchangeAsync(code, verifier);

        using var logout = await _client.LogoutAsync((parameter, value));

        Assert.Equal(HttpStatusCode.BadRequest, logout.StatusCode);
        Assert.Null(logout.Headers.Location);
    }

    [Fact]
    public async Task Logout_RefusesAnIdTokenOfAnotherKey()
    {
        using var rsa = RSA.Create(2048);
        var foreign = new Microsoft.IdentityModel.JsonWebTokens.JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = _idp.Authority,
            Audience = DevSignInClient.ClientId,
            Subject = new System.Security.Claims.ClaimsIdentity([new System.Security.Claims.Claim("sub", "alice")]),
            SigningCredentials = new SigningCredentials(new RsaSecurityKey(rsa), SecurityAlgorithms.RsaSha256),
        });

        using var logout = await _client.LogoutAsync(("id_token_hint", foreign));

        Assert.Equal(HttpStatusCode.BadRequest, logout.StatusCode);
    }

    [Fact]
    public async Task LoginForm_EncodesWhatTheRequestCarries()
    {
        var (_, challenge) = DevSignInClient.Pkce();

        using var form = await _client.AuthorizeAsync(_client.Request(challenge, state: "\"><script>alert(1)</script>"));
        var html = await form.Content.ReadAsStringAsync();

        Assert.DoesNotContain("<script>", html, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", form.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        using var callback = await _client.LoginAsync(form, "alice", "dev", mfa: false);
        Assert.Equal("\"><script>alert(1)</script>", _client.Callback(callback)["state"]);
    }

    [Fact]
    public async Task RefusesAWebClientRedirectUriOffLoopback()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => DevIdentityProvider.StartAsync(new DevIdentityProviderOptions
        {
            Listen = "http://127.0.0.1:0",
            KeyFile = Path.Combine(_keyDirectory, "dev-idp.key.pem"),
            WebClients = [new DevWebClient("portal", "s", ["https://portal.example/callback"])],
        }, NullLoggerFactory.Instance, CancellationToken.None));

        Assert.Contains("loopback", error.Message, StringComparison.Ordinal);
    }

    private async Task<(string Verifier, string Code)> CodeAsync(string user, bool mfa)
    {
        var (verifier, challenge) = DevSignInClient.Pkce();
        using var form = await _client.AuthorizeAsync(_client.Request(challenge));
        using var callback = await _client.LoginAsync(form, user, "dev", mfa);
        return (verifier, _client.Callback(callback)["code"]);
    }
}
