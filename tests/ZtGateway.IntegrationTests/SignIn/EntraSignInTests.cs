using System.Net;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Logging;
using ZtGateway.IntegrationTests.Infrastructure;

namespace ZtGateway.IntegrationTests.SignIn;

/// <summary>
/// Browser sign-in at an <c>entra</c> issuer (Microsoft.Identity.Web's web-app sign-in) against the Entra-shaped
/// authority on loopback, over real HTTP with no browser: the test plays the person at the authorize page by issuing
/// the code the authority would, and the gateway redeems it at a token endpoint that checks the client secret, the
/// one use of the code, the redirect URI and PKCE before it hands out a v2.0 ID token.
/// </summary>
[Trait("Category", "Interop")]
public sealed class EntraSignInTests : IAsyncLifetime
{
    private const string WebClientId = "ztgw-web-app";
    private const string WebClientSecret = "entra-web-secret-for-tests";

    private readonly TestIdentity _unusedIdentity = new();
    private readonly CapturedLogs _logs = new();
    private string _secretDirectory = null!;
    private EntraAuthority _entra = null!;
    private EchoUpstream _portal = null!;
    private TestGateway _gateway = null!;

    private static EntraSignInUser Alice => new("alice", ["finance-staff"]);

    public async Task InitializeAsync()
    {
        _entra = await EntraAuthority.StartAsync();
        _entra.AddWebClient(WebClientId, WebClientSecret);
        _portal = await EchoUpstream.StartAsync("portal");
        _secretDirectory = Directory.CreateTempSubdirectory("ztgw-entra-secret-").FullName;
        var secretFile = Path.Combine(_secretDirectory, "ztgw-web-app.secret");
        File.WriteAllText(secretFile, WebClientSecret + "\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(secretFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        // The authority stamps iat, nbf and auth_time on the real clock: so does the gateway here.
        _gateway = await TestGateway.StartAsync(_unusedIdentity, Segments(_portal.Url), GatewayYaml(_entra.Instance, secretFile),
            configure: options => options with { TimeProvider = TimeProvider.System, LoggerFactory = _logs.Factory(LogLevel.Information) });
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _portal.DisposeAsync();
        await _entra.DisposeAsync();
        _unusedIdentity.Dispose();
        Directory.Delete(_secretDirectory, recursive: true);
    }

    private string Finance => _gateway.Listener("finance").ToString().TrimEnd('/');

    private string Callback => Finance + "/.ztgw/callback";

    [Fact]
    public async Task A_person_is_sent_to_entra_signs_in_with_a_code_and_reaches_the_page_as_herself()
    {
        using var browser = new Browser(Finance);

        // No session: a browser is sent to the tenant's authorize endpoint with a code request, PKCE, state and nonce.
        var request = await browser.StartSignInAsync("/reports", _entra.AuthorizationEndpoint);
        Assert.Equal(WebClientId, request["client_id"]);
        Assert.Equal("code", request["response_type"]);
        Assert.Equal(Callback, request["redirect_uri"]);
        // response_mode is left out when it is query, the default of response_type=code (form_post would be a POST callback).
        Assert.True(request.Find("response_mode") is null or "query", request.Find("response_mode"));
        Assert.Equal("S256", request["code_challenge_method"]);
        Assert.Matches("^[A-Za-z0-9_-]{43}$", request["code_challenge"]);
        Assert.NotEmpty(request["state"]);
        Assert.NotEmpty(request["nonce"]);
        Assert.Contains("openid", request["scope"].Split(' '));
        Assert.Null(request.Find("client_secret"));
        Assert.Empty(_entra.TokenRequests);

        // An API client is refused, never redirected.
        var (apiStatus, apiBody, apiResponse) = await SignInRig.GetAsync(Finance + "/reports", cookie: null);
        Assert.Equal(HttpStatusCode.Unauthorized, apiStatus);
        Assert.Equal("application/problem+json", apiResponse.Content.Headers.ContentType?.MediaType);
        Assert.Equal("token-missing", SignInRig.Reason(apiBody));
        Assert.Null(apiResponse.Headers.Location);

        // She signs in at the authority, which sends the browser back with a code bound to that request.
        var alice = Alice;
        var code = _entra.IssueAuthorizationCode(WebClientId, request["redirect_uri"], request["code_challenge"], request["nonce"], alice);
        var callbackUrl = request["redirect_uri"] + "?code=" + Uri.EscapeDataString(code) + "&state=" + Uri.EscapeDataString(request["state"])
            + "&session_state=" + Guid.NewGuid();
        var back = await browser.GetAsync(callbackUrl);
        Assert.True(back.Status == HttpStatusCode.Found, $"callback answered {(int)back.Status}:\n{back.Body}");
        Assert.Equal("/reports", back.Response.Headers.Location?.OriginalString);
        var sessionCookie = Attributes(back.SetCookies.Single(c => c.StartsWith("ztgw-finance=", StringComparison.Ordinal)));
        Assert.Contains("httponly", sessionCookie);
        Assert.Contains("samesite=lax", sessionCookie);
        Assert.Contains("path=/", sessionCookie);
        Assert.DoesNotContain("secure", sessionCookie);
        Assert.True(browser.HasCookie("ztgw-finance"));

        // The gateway redeemed the code once, as the confidential client it is.
        var redeemed = Assert.Single(_entra.TokenRequests);
        Assert.Equal((WebClientId, 200), (redeemed.ClientId, redeemed.Status));
        Assert.Contains(redeemed.ClientAuthentication, new[] { "client_secret_post", "client_secret_basic" });
        Assert.Contains(_logs.Lines, l => l.Contains(" 1401 ", StringComparison.Ordinal) && l.Contains(alice.Subject + " signed in at corp", StringComparison.Ordinal));

        // Audited as one Authentication Logon of her, in the provider's session; a v2.0 ID token has no amr, so nothing is said of MFA.
        var signedIn = Assert.Single(BrowserSignInTests.AuthenticationLines(_gateway.AuditFile));
        Assert.Equal((1, 1, 1), (signedIn.GetProperty("activity_id").GetInt32(), signedIn.GetProperty("status_id").GetInt32(),
            signedIn.GetProperty("severity_id").GetInt32()));
        Assert.Equal($$"""{"uid":"{{alice.Subject}}","name":"alice@corp.example","type_id":1,"type":"User"}""", signedIn.GetProperty("user").GetRawText());
        var session = signedIn.GetProperty("session");
        Assert.Equal((alice.SessionId, _entra.Issuer), (session.GetProperty("uid").GetString(), session.GetProperty("issuer").GetString()));
        Assert.Equal(3_600_000, session.GetProperty("expiration_time").GetInt64() - session.GetProperty("created_time").GetInt64());
        Assert.False(signedIn.TryGetProperty("is_mfa", out _));
        Assert.Equal((4, "OpenID"), (signedIn.GetProperty("auth_protocol_id").GetInt32(), signedIn.GetProperty("auth_protocol").GetString()));
        Assert.Equal("finance", signedIn.GetProperty("service").GetProperty("name").GetString());
        Assert.Equal(new Uri(Finance).Port, signedIn.GetProperty("dst_endpoint").GetProperty("port").GetInt32());
        Assert.False(signedIn.GetProperty("unmapped").GetProperty("ztgw").GetProperty("step_up").GetBoolean());
        Assert.DoesNotContain(code, signedIn.GetRawText(), StringComparison.Ordinal);

        // With the session, the page is forwarded; the upstream sees no gateway cookie, and the assertion names her.
        var page = await browser.GetAsync(Finance + "/reports");
        Assert.True(page.Status == HttpStatusCode.OK, $"/reports answered {(int)page.Status}:\n{page.Body}");
        Assert.Contains("\"service\":\"portal\"", page.Body, StringComparison.Ordinal);
        var forwarded = Assert.Single(_portal.Requests);
        Assert.Equal("/reports", forwarded.Path);
        Assert.False(forwarded.Headers.TryGetValue("Cookie", out var cookie) && cookie.Contains("ztgw", StringComparison.Ordinal), cookie);
        var assertion = OidcProviderProcess.ClaimsOf(forwarded.Headers["X-ZT-Assertion"]);
        Assert.Equal(alice.Subject, assertion.GetProperty("sub").GetString());
        Assert.Equal("user", assertion.GetProperty("principal_type").GetString());
        Assert.Equal("finance-staff", assertion.GetProperty("rule").GetString());

        // The same callback once more (its state is spent, the correlation cookie gone): refused before any code is redeemed.
        var replay = await browser.GetAsync(callbackUrl);
        Assert.True(replay.Status == HttpStatusCode.Unauthorized, $"the replayed callback answered {(int)replay.Status}:\n{replay.Body}");
        Assert.Contains("<code>token-invalid</code>", replay.Body, StringComparison.Ordinal);
        Assert.DoesNotContain(replay.SetCookies, c => c.StartsWith("ztgw-finance=", StringComparison.Ordinal) && !c.StartsWith("ztgw-finance=;", StringComparison.Ordinal));
        Assert.Single(_entra.TokenRequests);
        var replayed = BrowserSignInTests.AuthenticationLines(_gateway.AuditFile);
        Assert.Equal(2, replayed.Count);
        Assert.Equal("""{"name":"(unknown)","type_id":0,"type":"Unknown"}""",
            BrowserSignInTests.AssertRefusedLogon(replayed[1], BrowserSignInTests.RefusalOf(_gateway.AuditFile, "/.ztgw/callback"), "finance").GetRawText());

        // A forged session is worth nothing.
        var (forgedStatus, forgedBody, _) = await SignInRig.GetAsync(Finance + "/reports", "ztgw-finance=" + new string('A', 200));
        Assert.Equal(HttpStatusCode.Unauthorized, forgedStatus);
        Assert.Equal("token-invalid", SignInRig.Reason(forgedBody));
        Assert.Single(_portal.Requests);
    }

    public static TheoryData<string> Tamperings() =>
        ["replayed-code", "challenge-of-another-verifier", "another-redirect-uri", "code-of-another-client", "nonce-of-another-request", "id-token-of-another-tenant"];

    [Theory]
    [MemberData(nameof(Tamperings))]
    public async Task A_callback_whose_code_or_id_token_does_not_belong_to_the_sign_in_fails_closed(string kind)
    {
        using var browser = new Browser(Finance);
        var request = await browser.StartSignInAsync("/reports", _entra.AuthorizationEndpoint);
        var redirectUri = request["redirect_uri"];
        var challenge = request["code_challenge"];
        var nonce = request["nonce"];
        string code;
        switch (kind)
        {
            case "replayed-code":
                // A first sign-in redeems the code; the same code brought back to a fresh sign-in is spent.
                using (var first = new Browser(Finance))
                {
                    var earlier = await first.StartSignInAsync("/reports", _entra.AuthorizationEndpoint);
                    code = _entra.IssueAuthorizationCode(WebClientId, earlier["redirect_uri"], earlier["code_challenge"], earlier["nonce"], Alice);
                    var signedIn = await first.GetAsync(earlier["redirect_uri"] + "?code=" + Uri.EscapeDataString(code) + "&state=" + Uri.EscapeDataString(earlier["state"]));
                    Assert.True(signedIn.Status == HttpStatusCode.Found, $"the first callback answered {(int)signedIn.Status}:\n{signedIn.Body}");
                }

                break;
            case "challenge-of-another-verifier":
                code = _entra.IssueAuthorizationCode(WebClientId, redirectUri, EntraAuthority.S256(Guid.NewGuid().ToString("N") + Guid.NewGuid().ToString("N")), nonce, Alice);
                break;
            case "another-redirect-uri":
                code = _entra.IssueAuthorizationCode(WebClientId, "http://127.0.0.1:1/.ztgw/callback", challenge, nonce, Alice);
                break;
            case "code-of-another-client":
                _entra.AddWebClient("another-web-app", "another-secret");
                code = _entra.IssueAuthorizationCode("another-web-app", redirectUri, challenge, nonce, Alice);
                break;
            case "nonce-of-another-request":
                code = _entra.IssueAuthorizationCode(WebClientId, redirectUri, challenge, Guid.NewGuid().ToString("N"), Alice);
                break;
            case "id-token-of-another-tenant":
                code = _entra.IssueAuthorizationCode(WebClientId, redirectUri, challenge, nonce, Alice with { TenantId = EntraAuthority.OtherTenantId });
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(kind));
        }

        var requestsBefore = _entra.TokenRequests.Count;
        var back = await browser.GetAsync(redirectUri + "?code=" + Uri.EscapeDataString(code) + "&state=" + Uri.EscapeDataString(request["state"]));

        Assert.True(back.Status == HttpStatusCode.Unauthorized, $"callback answered {(int)back.Status}:\n{back.Body}");
        Assert.StartsWith("text/html", back.Response.Content.Headers.ContentType?.ToString(), StringComparison.Ordinal);
        Assert.Contains("<code>token-invalid</code>", back.Body, StringComparison.Ordinal);
        Assert.Contains("/.ztgw/sign-in", back.Body, StringComparison.Ordinal);
        Assert.Null(back.Response.Headers.Location);
        Assert.DoesNotContain(back.SetCookies, c => c.StartsWith("ztgw-finance=", StringComparison.Ordinal));
        Assert.False(browser.HasCookie("ztgw-finance"));

        // The gateway did go to the token endpoint: the refusal is the authority's, or, for a token it issued, the
        // handler's (nonce) or the gateway's own verifier's (tenant); event 1402 says which.
        var attempt = Assert.Single(_entra.TokenRequests.Skip(requestsBefore));
        var (status, error, why) = kind switch
        {
            "replayed-code" => (400, "invalid_grant", "AADSTS54005"),
            "challenge-of-another-verifier" => (400, "invalid_grant", "AADSTS501481"),
            "another-redirect-uri" => (400, "invalid_grant", "redirect_uri does not match"),
            "code-of-another-client" => (400, "invalid_grant", "issued to another client"),
            "nonce-of-another-request" => (200, null, "IDX21323"),
            "id-token-of-another-tenant" => (200, (string?)null, "ID token refused"),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        Assert.Equal((status, error), (attempt.Status, attempt.Error));
        Assert.Equal(WebClientId, attempt.ClientId);
        var refusal = Assert.Single(_logs.Lines, l => l.Contains(" 1402 ", StringComparison.Ordinal));
        Assert.Contains(why, refusal, StringComparison.Ordinal);
        Assert.Equal(kind == "replayed-code" ? 1 : 0, _logs.Lines.Count(l => l.Contains(" 1401 ", StringComparison.Ordinal)));

        // Audited as a failed logon (after the first sign-in's success, for a replayed code) that says why in the words of
        // event 1402 and names the refusal. The person is known once the handler verified an ID token's signature.
        var lines = BrowserSignInTests.AuthenticationLines(_gateway.AuditFile);
        Assert.Equal(kind == "replayed-code" ? [1, 2] : [2], lines.Select(l => l.GetProperty("status_id").GetInt32()));
        var user = BrowserSignInTests.AssertRefusedLogon(lines[^1], BrowserSignInTests.RefusalOf(_gateway.AuditFile, "/.ztgw/callback"), "finance");
        Assert.Contains(why, lines[^1].GetProperty("status_detail").GetString(), StringComparison.Ordinal);
        Assert.False(lines[^1].GetProperty("unmapped").GetProperty("ztgw").GetProperty("step_up").GetBoolean());
        Assert.Equal(kind is "nonce-of-another-request" or "id-token-of-another-tenant"
            ? $$"""{"uid":"{{Alice.Subject}}","name":"alice@corp.example","type_id":1,"type":"User"}"""
            : """{"name":"(unknown)","type_id":0,"type":"Unknown"}""", user.GetRawText());
        Assert.DoesNotContain(code, lines[^1].GetRawText(), StringComparison.Ordinal);

        // Without a session, the page is still a sign-in, and nothing reached the upstream.
        var after = await browser.GetAsync(Finance + "/reports");
        Assert.Equal(HttpStatusCode.Found, after.Status);
        Assert.StartsWith(_entra.AuthorizationEndpoint + "?", after.Response.Headers.Location?.ToString(), StringComparison.Ordinal);
        Assert.Empty(_portal.Requests);
    }

    private static string GatewayYaml(string instance, string secretFile) => $$"""
        gateway:
          policyDir: segments
          stateDir: state
          management:
            listen: http://127.0.0.1:0
        identity:
          issuers:
            - name: corp
              type: entra
              instance: {{instance}}
              tenantId: {{EntraAuthority.TenantId}}
              audiences: [{{EntraAuthority.Audience}}]
              requireHttpsMetadata: false
        signIn:
          issuer: corp
          clientId: {{WebClientId}}
          clientSecretFile: {{secretFile}}
          scopes: [openid, profile]
          sessionLifetime: 1h
        device:
          header: X-Device-Posture
          audience: ztgw
          maxAge: 15m
          issuers:
            - issuer: https://posture.test
              jwksFile: keys/posture.jwks.json
        assertion:
          issuer: https://ztgw.test
          signingKeyFile: keys/gateway-signing.pem
        audit:
          sinks: ["file:audit/decisions.jsonl"]
        """;

    private static Dictionary<string, string> Segments(string portalUrl) => new()
    {
        ["finance"] = $$"""
            segment: finance
            listen: http://127.0.0.1:0
            signIn: true
            members:
              networks: [127.0.0.0/8]
            defaults:
              mfa: optional
              device: any
            services:
              portal:
                destinations: [{{portalUrl}}]
            routes:
              - id: portal
                match: { path: "/{**rest}", methods: [GET] }
                service: portal
                allow:
                  - name: finance-staff
                    from: [finance]
                    users: { groups: [finance-staff] }
            """,
    };

    // The attributes of a Set-Cookie value (after the name=value pair), lower-cased.
    private static HashSet<string> Attributes(string setCookie) =>
        [.. setCookie.Split(';').Skip(1).Select(a => a.Trim().ToLowerInvariant())];

    /// <summary>What a browser does here: keeps cookies, asks for HTML, and follows no redirect by itself.</summary>
    private sealed class Browser(string origin) : IDisposable
    {
        private readonly CookieContainer _cookies = new();
        private readonly Uri _origin = new(origin);
        private HttpClient? _client;

        private HttpClient Client => _client ??= new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = true, CookieContainer = _cookies })
        {
            Timeout = TimeSpan.FromSeconds(30),
        };

        public bool HasCookie(string name) => _cookies.GetAllCookies().Any(c => c.Name == name && !c.Expired);

        public async Task<(HttpStatusCode Status, string Body, HttpResponseMessage Response, IReadOnlyList<string> SetCookies)> GetAsync(string url)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/html"));
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/xhtml+xml"));
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("*/*", 0.8));
            var response = await Client.SendAsync(request);
            var setCookies = response.Headers.TryGetValues("Set-Cookie", out var values) ? values.ToList() : [];
            return (response.StatusCode, await response.Content.ReadAsStringAsync(), response, setCookies);
        }

        /// <summary>Asks for <paramref name="path"/> without a session: the answer must be a redirect to the authorize endpoint.</summary>
        public async Task<AuthorizationRequest> StartSignInAsync(string path, string authorizationEndpoint)
        {
            var (status, body, response, setCookies) = await GetAsync(new Uri(_origin, path).ToString());
            Assert.True(status == HttpStatusCode.Found, $"{path} answered {(int)status}:\n{body}");
            var location = response.Headers.Location?.ToString() ?? string.Empty;
            Assert.StartsWith(authorizationEndpoint + "?", location, StringComparison.Ordinal);
            Assert.Contains(setCookies, c => c.StartsWith("ztgw.correlation.", StringComparison.Ordinal)
                && Attributes(c) is var attributes && attributes.Contains("path=/.ztgw") && attributes.Contains("httponly") && attributes.Contains("samesite=lax"));
            Assert.Contains(setCookies, c => c.StartsWith("ztgw.nonce.", StringComparison.Ordinal));
            return new AuthorizationRequest(QueryHelpers.ParseQuery(new Uri(location).Query));
        }

        public void Dispose() => _client?.Dispose();
    }

    /// <summary>The query of the redirect to the authorize endpoint.</summary>
    private sealed record AuthorizationRequest(Dictionary<string, Microsoft.Extensions.Primitives.StringValues> Query)
    {
        /// <summary>The parameter's one value; an absent or repeated parameter fails the test.</summary>
        public string this[string name] => Find(name) ?? throw new Xunit.Sdk.XunitException("the authorization request has no " + name);

        /// <summary>The parameter's one value, or null when absent.</summary>
        public string? Find(string name) => Query.TryGetValue(name, out var values) ? Assert.Single(values) : null;
    }
}
