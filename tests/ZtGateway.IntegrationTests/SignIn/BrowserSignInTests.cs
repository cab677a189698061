using System.Net;
using System.Text.Json;
using Microsoft.Playwright;
using ZtGateway.IntegrationTests.Continuous;
using ZtGateway.IntegrationTests.Infrastructure;

namespace ZtGateway.IntegrationTests.SignIn;

/// <summary>
/// People in a real browser (headless Chromium) signing in at a real OpenID Provider through the gateway: the sign-in,
/// an allowed page, the HTML refusal of another segment, step-up by redirect, sign-out; what the session cookie is worth
/// elsewhere; and the revocations that end it.
/// </summary>
[Collection(SharedBrowser.Name)]
[Trait("Category", "Interop")]
public sealed class BrowserSignInTests(HeadlessChromium chromium)
{
    // Signs in at the provider's login form the browser was sent to, and waits to be back at the gateway.
    internal static async Task LogInAsync(IPage page, string user, bool mfa, string? backAt)
    {
        await page.Locator("#login").WaitForAsync();
        await page.SelectOptionAsync("#username", user);
        await page.FillAsync("#password", OidcProviderProcess.LoginPassword);
        if (mfa)
        {
            await page.CheckAsync("#mfa");
        }

        await page.ClickAsync("#login");
        if (backAt is null)
        {
            return;
        }

        // The redirects end at the gateway's page (bounded wait, polled: the chain has several hops).
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!(page.Url.StartsWith(backAt, StringComparison.Ordinal) && !page.Url.Contains("/.ztgw/", StringComparison.Ordinal)))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"not back at {backAt} after signing in; the browser is at {page.Url}:\n{await page.ContentAsync()}");
            }

            await Task.Delay(100);
        }

        // Asked of the document itself, polled: Playwright's lifecycle events of a frame that went through several
        // redirects have been seen to miss domcontentloaded of the last one.
        await page.WaitForFunctionAsync("() => document.readyState !== 'loading'", null,
            new PageWaitForFunctionOptions { PollingInterval = 100, Timeout = 30_000 });
    }

    // Signs out at the gateway's sign-out page, confirms at the provider's logout page, and waits for the signed-out page.
    private static async Task SignOutAsync(IPage page, string origin)
    {
        var form = await page.GotoAsync(origin + "/.ztgw/sign-out");
        Assert.Equal(200, form!.Status);
        await page.ClickAsync("#sign-out");
        await page.Locator("button[name=logout]").ClickAsync();
        await page.Locator("#signed-out").WaitForAsync();
    }

    private static async Task<string> SessionCookieAsync(IBrowserContext context, string segment) =>
        (await context.CookiesAsync()).Single(c => c.Name == "ztgw-" + segment).Value;

    /// <summary>Every line of an audit file, in order.</summary>
    internal static List<JsonElement> AuditLinesOf(string auditFile) =>
        [.. File.ReadAllLines(auditFile).Select(l => JsonDocument.Parse(l).RootElement.Clone())];

    /// <summary>The Authentication lines (OCSF 3002) of an audit file: sign-ins, refused callbacks, sign-outs.</summary>
    internal static List<JsonElement> AuthenticationLines(string auditFile) =>
        [.. AuditLinesOf(auditFile).Where(l => l.GetProperty("class_uid").GetInt32() == 3002)];

    /// <summary>The HTTP Activity line of the one refusal of <paramref name="path"/>.</summary>
    internal static JsonElement RefusalOf(string auditFile, string path) =>
        Assert.Single(AuditLinesOf(auditFile), l => l.GetProperty("class_uid").GetInt32() == 4002
            && l.GetProperty("http_request").GetProperty("url").GetProperty("path").GetString() == path);

    /// <summary>
    /// Checks the Authentication line of a refused callback: a Medium Logon failure, with the reason and the failure in
    /// words, naming the HTTP Activity line of the same refusal and sharing its trace. Returns its <c>user</c>.
    /// </summary>
    internal static JsonElement AssertRefusedLogon(JsonElement line, JsonElement refusal, string segment)
    {
        Assert.Equal((1, "Logon", 300201), (line.GetProperty("activity_id").GetInt32(), line.GetProperty("activity_name").GetString(),
            line.GetProperty("type_uid").GetInt32()));
        Assert.Equal((2, "Failure", 3), (line.GetProperty("status_id").GetInt32(), line.GetProperty("status").GetString(), line.GetProperty("severity_id").GetInt32()));
        Assert.Equal((4, "OpenID"), (line.GetProperty("auth_protocol_id").GetInt32(), line.GetProperty("auth_protocol").GetString()));
        Assert.Equal(segment, line.GetProperty("service").GetProperty("name").GetString());
        Assert.False(line.TryGetProperty("session", out _));
        Assert.Equal(401, refusal.GetProperty("http_response").GetProperty("code").GetInt32());
        var ztgw = line.GetProperty("unmapped").GetProperty("ztgw");
        Assert.Equal("token-invalid", ztgw.GetProperty("reason").GetString());
        Assert.Equal(refusal.GetProperty("unmapped").GetProperty("ztgw").GetProperty("reason").GetString(), ztgw.GetProperty("reason").GetString());
        Assert.Equal(line.GetProperty("status_detail").GetString(), ztgw.GetProperty("detail").GetString());
        Assert.Equal(refusal.GetProperty("metadata").GetProperty("uid").GetString(), ztgw.GetProperty("decision_id").GetString());
        Assert.Equal(refusal.GetProperty("trace").GetProperty("uid").GetString(), ztgw.GetProperty("trace_id").GetString());
        Assert.NotEqual(refusal.GetProperty("metadata").GetProperty("uid").GetString(), line.GetProperty("metadata").GetProperty("uid").GetString());
        Assert.Equal("/.ztgw/callback", line.GetProperty("http_request").GetProperty("url").GetProperty("path").GetString());
        return line.GetProperty("user");
    }

    [Fact]
    public async Task A_person_signs_in_reaches_a_page_is_refused_elsewhere_steps_up_and_signs_out()
    {
        await using var rig = await SignInRig.StartAsync();
        await using var context = await chromium.NewContextAsync();
        var page = await context.NewPageAsync();

        // No session: the browser is sent to the provider, signs in without MFA, and comes back to the page it asked for.
        await page.GotoAsync(rig.Finance() + "/reports/q3");
        Assert.StartsWith(rig.Provider.Issuer, page.Url, StringComparison.Ordinal);
        await LogInAsync(page, "alice", mfa: false, backAt: rig.Finance());
        Assert.Equal(rig.Finance() + "/reports/q3", page.Url);
        Assert.Contains("\"service\":\"portal\"", await page.ContentAsync(), StringComparison.Ordinal);
        var forwarded = rig.Portal.Requests.Last(r => r.Path == "/reports/q3");
        Assert.False(forwarded.Headers.TryGetValue("Cookie", out var cookie) && cookie.Contains("ztgw", StringComparison.Ordinal));

        var sessionCookie = (await context.CookiesAsync()).Single(c => c.Name == "ztgw-finance");
        Assert.True(sessionCookie.HttpOnly);
        Assert.Equal(SameSiteAttribute.Lax, sessionCookie.SameSite);

        // Another segment: signed in there too (the provider remembers her), then refused as a page, not as JSON.
        var refused = await page.GotoAsync(rig.Hr() + "/people/directory");
        Assert.NotNull(refused);
        Assert.Equal(403, refused.Status);
        Assert.StartsWith("text/html", refused.Headers["content-type"], StringComparison.Ordinal);
        Assert.Contains("segment-not-allowed", await page.ContentAsync(), StringComparison.Ordinal);
        Assert.Matches("^[0-9a-f-]{36}$", await page.Locator("#decision-id").TextContentAsync() ?? string.Empty);
        Assert.Empty(rig.People.Requests);

        // The admin page needs MFA: the browser is sent to sign in again, with MFA this time, and comes back allowed.
        await page.GotoAsync(rig.Finance() + "/admin/settings");
        Assert.StartsWith(rig.Provider.Issuer, page.Url, StringComparison.Ordinal);
        await LogInAsync(page, "alice", mfa: true, backAt: rig.Finance());
        Assert.Equal(rig.Finance() + "/admin/settings", page.Url);
        var admin = await page.ContentAsync();
        Assert.True(admin.Contains("\"path\":\"/admin/settings\"", StringComparison.Ordinal), admin);

        // Sign out: the session ends here and at the provider; the next visit asks for a login again.
        var steppedUp = await SessionCookieAsync(context, "finance");
        await SignOutAsync(page, rig.Finance());
        Assert.DoesNotContain(await context.CookiesAsync(), c => c.Name == "ztgw-finance");
        await page.GotoAsync(rig.Finance() + "/reports/q3");
        await page.Locator("#login").WaitForAsync();
        Assert.StartsWith(rig.Provider.Issuer, page.Url, StringComparison.Ordinal);

        var audit = await File.ReadAllTextAsync(rig.Gateway.AuditFile);
        Assert.Contains("\"code\":302", audit, StringComparison.Ordinal);

        // Each callback that made a session is one Authentication Logon line (the step-up with MFA), the sign-out one
        // Logoff of the session it ended; the redirects to sign in again are not sign-ins.
        var lines = AuthenticationLines(rig.Gateway.AuditFile);
        Assert.Equal(["Logon finance step_up=False is_mfa=False", "Logon hr step_up=False is_mfa=False", "Logon finance step_up=True is_mfa=True",
            "Logoff finance"], lines.Select(Shown));
        var ports = new Dictionary<string, int> { ["finance"] = new Uri(rig.Finance()).Port, ["hr"] = new Uri(rig.Hr()).Port };
        foreach (var line in lines)
        {
            var segment = line.GetProperty("service").GetProperty("name").GetString()!;
            var logoff = line.GetProperty("activity_id").GetInt32() == 2;
            Assert.Equal(300200 + line.GetProperty("activity_id").GetInt32(), line.GetProperty("type_uid").GetInt32());
            Assert.Equal((1, "Success", 1), (line.GetProperty("status_id").GetInt32(), line.GetProperty("status").GetString(), line.GetProperty("severity_id").GetInt32()));
            Assert.False(line.TryGetProperty("status_detail", out _));
            Assert.Equal((4, "OpenID"), (line.GetProperty("auth_protocol_id").GetInt32(), line.GetProperty("auth_protocol").GetString()));
            Assert.Equal("""{"uid":"alice","type_id":1,"type":"User"}""", line.GetProperty("user").GetRawText());
            var session = line.GetProperty("session");
            Assert.False(string.IsNullOrEmpty(session.GetProperty("uid").GetString()));
            Assert.False(session.GetProperty("uid").GetString()!.StartsWith("ztgw:", StringComparison.Ordinal));
            Assert.Equal(rig.Provider.Issuer, session.GetProperty("issuer").GetString());
            Assert.Equal(3_600_000, session.GetProperty("expiration_time").GetInt64() - session.GetProperty("created_time").GetInt64());
            Assert.Equal("127.0.0.1", line.GetProperty("src_endpoint").GetProperty("ip").GetString());
            Assert.Equal($$"""{"svc_name":"{{segment}}","ip":"127.0.0.1","port":{{ports[segment]}}}""", line.GetProperty("dst_endpoint").GetRawText());
            Assert.Equal(logoff ? """{"http_method":"POST","url":{"path":"/.ztgw/sign-out"}}""" : """{"http_method":"GET","url":{"path":"/.ztgw/callback"}}""",
                line.GetProperty("http_request").GetRawText());
            var ztgw = line.GetProperty("unmapped").GetProperty("ztgw");
            Assert.Equal((segment, "corp"), (ztgw.GetProperty("segment").GetString(), ztgw.GetProperty("issuer").GetString()));
            Assert.Equal(logoff ? "sign-out" : null, ztgw.TryGetProperty("reason", out var reason) ? reason.GetString() : null);
            Assert.DoesNotContain(sessionCookie.Value, line.GetRawText(), StringComparison.Ordinal);
            Assert.DoesNotContain(steppedUp, line.GetRawText(), StringComparison.Ordinal);
        }

        Assert.Equal(lines.Count, lines.Select(l => l.GetProperty("metadata").GetProperty("uid").GetString()).Distinct().Count());
        Assert.Equal(lines[2].GetProperty("session").GetRawText(), lines[3].GetProperty("session").GetRawText());

        static string Shown(JsonElement line) => line.GetProperty("activity_name").GetString() + " " + line.GetProperty("service").GetProperty("name").GetString()
            + (line.GetProperty("activity_id").GetInt32() == 1
                ? $" step_up={line.GetProperty("unmapped").GetProperty("ztgw").GetProperty("step_up").GetBoolean()} is_mfa={line.GetProperty("is_mfa").GetBoolean()}"
                : string.Empty);
    }

    [Fact]
    public async Task An_admin_page_still_refused_after_stepping_up_gets_the_refusal_and_no_redirect_loop()
    {
        await using var rig = await SignInRig.StartAsync();
        await using var context = await chromium.NewContextAsync();
        var page = await context.NewPageAsync();

        await page.GotoAsync(rig.Finance() + "/admin/settings");
        await LogInAsync(page, "alice", mfa: false, backAt: null);

        // Sent to step up, she signs in without MFA again: the page she gets is the refusal.
        await page.Locator("#login").WaitForAsync();
        await page.SelectOptionAsync("#username", "alice");
        await page.FillAsync("#password", OidcProviderProcess.LoginPassword);
        var refusal = await page.RunAndWaitForResponseAsync(() => page.ClickAsync("#login"),
            r => r.Url.StartsWith(rig.Finance() + "/admin/settings", StringComparison.Ordinal));
        Assert.Equal(401, refusal.Status);
        await page.WaitForURLAsync(rig.Finance() + "/admin/settings");
        Assert.Contains("mfa-required", await page.ContentAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_session_cookie_is_refused_at_another_segment_and_a_tampered_one_is_token_invalid()
    {
        await using var rig = await SignInRig.StartAsync();
        await using var context = await chromium.NewContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync(rig.Finance() + "/reports");
        await LogInAsync(page, "alice", mfa: false, backAt: rig.Finance());
        var session = await SessionCookieAsync(context, "finance");

        var (status, body, _) = await SignInRig.GetAsync(rig.Finance() + "/reports", "ztgw-finance=" + session);
        Assert.Equal(HttpStatusCode.OK, status);

        (status, body, _) = await SignInRig.GetAsync(rig.Hr() + "/people", "ztgw-hr=" + session);
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("token-invalid", SignInRig.Reason(body));

        var chars = session.ToCharArray();
        chars[chars.Length / 2] = chars[chars.Length / 2] == 'A' ? 'B' : 'A';
        (status, body, _) = await SignInRig.GetAsync(rig.Finance() + "/reports", "ztgw-finance=" + new string(chars));
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("token-invalid", SignInRig.Reason(body));

        // No upstream request ever carried a gateway cookie.
        Assert.All(rig.Portal.Requests, r => Assert.False(r.Headers.TryGetValue("Cookie", out var c) && c.Contains("ztgw", StringComparison.Ordinal)));
        Assert.DoesNotContain(rig.People.Requests, r => r.Path.StartsWith("/people", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_api_client_is_never_redirected_and_a_browser_is_sent_with_pkce_state_and_nonce()
    {
        await using var rig = await SignInRig.StartAsync();

        var (status, body, _) = await SignInRig.GetAsync(rig.Finance() + "/reports", cookie: null);
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("token-missing", SignInRig.Reason(body));

        var (browserStatus, _, response) = await SignInRig.GetAsync(rig.Finance() + "/reports", cookie: null, accept: "text/html");
        Assert.Equal(HttpStatusCode.Found, browserStatus);
        var location = response.Headers.Location!.ToString();
        Assert.StartsWith(rig.Provider.Issuer, location, StringComparison.Ordinal);
        // The request itself (code, PKCE S256, state, nonce, redirect_uri) was pushed to the provider first (RFC 9126):
        // the browser only carries its handle.
        Assert.Contains("client_id=" + OidcProviderProcess.WebClient, location, StringComparison.Ordinal);
        Assert.Contains("request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3A", location, StringComparison.Ordinal);
        Assert.Contains(response.Headers.GetValues("Set-Cookie"), c => c.StartsWith("ztgw.correlation.", StringComparison.Ordinal)
            && c.Contains("httponly", StringComparison.OrdinalIgnoreCase) && c.Contains("samesite=lax", StringComparison.OrdinalIgnoreCase));
        Assert.Contains(response.Headers.GetValues("Set-Cookie"), c => c.StartsWith("ztgw.nonce.", StringComparison.Ordinal));

        // A callback nobody started is refused, never forwarded: audited as the refusal it is, and as a failed logon of
        // nobody known that names that refusal. Neither line carries the code or the state.
        (status, body, _) = await SignInRig.GetAsync(rig.Finance() + "/.ztgw/callback?code=forged-code&state=forged-state", cookie: null);
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("token-invalid", SignInRig.Reason(body));
        Assert.Empty(rig.Portal.Requests);
        var refusal = RefusalOf(rig.Gateway.AuditFile, "/.ztgw/callback");
        var failed = Assert.Single(AuthenticationLines(rig.Gateway.AuditFile));
        Assert.Equal("""{"name":"(unknown)","type_id":0,"type":"Unknown"}""", AssertRefusedLogon(failed, refusal, "finance").GetRawText());
        Assert.Contains("state", failed.GetProperty("status_detail").GetString(), StringComparison.OrdinalIgnoreCase);
        Assert.False(failed.GetProperty("unmapped").GetProperty("ztgw").TryGetProperty("step_up", out _));
        using var problem = JsonDocument.Parse(body);
        Assert.Equal(problem.RootElement.GetProperty("decisionId").GetString(), refusal.GetProperty("metadata").GetProperty("uid").GetString());
        Assert.Equal(problem.RootElement.GetProperty("traceId").GetString(), failed.GetProperty("unmapped").GetProperty("ztgw").GetProperty("trace_id").GetString());
        Assert.DoesNotContain("forged", failed.GetRawText(), StringComparison.Ordinal);
        Assert.DoesNotContain("forged", refusal.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_caep_session_revoked_ends_the_live_session_on_its_next_request()
    {
        await using var rig = await SignInRig.StartAsync();
        await using var context = await chromium.NewContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync(rig.Finance() + "/reports");
        await LogInAsync(page, "bob", mfa: false, backAt: rig.Finance());
        var session = await SessionCookieAsync(context, "finance");

        var now = DateTimeOffset.UtcNow;
        var set = rig.Transmitter.Set(now, "session-revoked", new Dictionary<string, object>
        {
            ["subject"] = TestTransmitter.User("bob", rig.Provider.Issuer),
            ["event_timestamp"] = now.ToUnixTimeSeconds(),
        });
        Assert.Equal(HttpStatusCode.Accepted, await rig.PushSignalAsync(set));

        var refused = await page.GotoAsync(rig.Finance() + "/reports");
        Assert.Equal(401, refused!.Status);
        Assert.Contains("token-revoked", await page.ContentAsync(), StringComparison.Ordinal);
        var (status, body, _) = await SignInRig.GetAsync(rig.Finance() + "/reports", "ztgw-finance=" + session);
        Assert.Equal("token-revoked", SignInRig.Reason(body));
        Assert.Equal(HttpStatusCode.Unauthorized, status);
    }

    [Fact]
    public async Task A_back_channel_logout_ends_the_live_session_and_a_forged_or_replayed_one_is_refused()
    {
        await using var rig = await SignInRig.StartAsync();
        await using var context = await chromium.NewContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync(rig.Finance() + "/reports");
        await LogInAsync(page, "carol", mfa: false, backAt: rig.Finance());
        var session = await SessionCookieAsync(context, "finance");

        var (forgedStatus, _) = await rig.BackChannelLogoutAsync(rig.LogoutToken("carol", forged: true));
        Assert.Equal(HttpStatusCode.BadRequest, forgedStatus);
        Assert.Equal(HttpStatusCode.OK, (await SignInRig.GetAsync(rig.Finance() + "/reports", "ztgw-finance=" + session)).Status);

        var token = rig.LogoutToken("carol");
        var (status, _) = await rig.BackChannelLogoutAsync(token);
        Assert.Equal(HttpStatusCode.OK, status);
        var (replayed, replayBody) = await rig.BackChannelLogoutAsync(token);
        Assert.Equal(HttpStatusCode.BadRequest, replayed);
        Assert.Contains("invalid_request", replayBody, StringComparison.Ordinal);

        var (after, body, _) = await SignInRig.GetAsync(rig.Finance() + "/reports", "ztgw-finance=" + session);
        Assert.Equal(HttpStatusCode.Unauthorized, after);
        Assert.Equal("token-revoked", SignInRig.Reason(body));
    }

    [Fact]
    public async Task Two_gateways_on_one_redis_accept_each_others_sessions()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var rig = await SignInRig.StartAsync(gateways: 2, redis: redis);
        await using var context = await chromium.NewContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync(rig.Finance(0) + "/reports");
        await LogInAsync(page, "alice", mfa: false, backAt: rig.Finance(0));
        var session = await SessionCookieAsync(context, "finance");

        var (status, body, _) = await SignInRig.GetAsync(rig.Finance(1) + "/reports", "ztgw-finance=" + session);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("\"service\":\"portal\"", body, StringComparison.Ordinal);
    }
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_sign_out_ends_every_copy_of_the_session_cookie_whether_or_not_the_provider_names_its_session(bool providerSessionIds)
    {
        await using var rig = await SignInRig.StartAsync(providerSessionIds: providerSessionIds);
        await using var context = await chromium.NewContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync(rig.Finance() + "/reports");
        await LogInAsync(page, "bob", mfa: false, backAt: rig.Finance());
        var copied = await SessionCookieAsync(context, "finance");
        Assert.Equal(HttpStatusCode.OK, (await SignInRig.GetAsync(rig.Finance() + "/reports", "ztgw-finance=" + copied)).Status);

        // The handler's front-channel logout path is a GET any page could make: it ends nothing.
        var (_, _, remote) = await SignInRig.GetAsync(rig.Finance() + "/.ztgw/remote-sign-out", "ztgw-finance=" + copied, accept: "text/html");
        Assert.DoesNotContain(remote.Headers.TryGetValues("Set-Cookie", out var cleared) ? cleared : [], c => c.StartsWith("ztgw-finance=", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.OK, (await SignInRig.GetAsync(rig.Finance() + "/reports", "ztgw-finance=" + copied)).Status);

        await SignOutAsync(page, rig.Finance());

        // A copy of the cookie taken before the sign-out (another tab, a stolen one) opens nothing any more.
        var (status, body, _) = await SignInRig.GetAsync(rig.Finance() + "/reports", "ztgw-finance=" + copied);
        Assert.Equal((HttpStatusCode.Unauthorized, "token-revoked"), (status, SignInRig.Reason(body)));
        var revocation = File.ReadAllLines(Path.Combine(rig.Gateway.Directory, "state", "ztgw-state.jsonl")).Single(l => l.Contains("\"revoke-session\"", StringComparison.Ordinal));
        Assert.Equal(!providerSessionIds, revocation.Contains("\"id\":\"ztgw:", StringComparison.Ordinal));

        // The sign-in and the sign-out are audited as the Logon and the Logoff of that one session.
        var revoked = JsonDocument.Parse(revocation).RootElement.GetProperty("id").GetString();
        var lines = AuthenticationLines(rig.Gateway.AuditFile);
        Assert.Equal([(1, "bob", revoked), (2, "bob", revoked)], lines.Select(l => (l.GetProperty("activity_id").GetInt32(),
            l.GetProperty("user").GetProperty("uid").GetString(), l.GetProperty("session").GetProperty("uid").GetString())));
        Assert.Equal(lines[0].GetProperty("session").GetRawText(), lines[1].GetProperty("session").GetRawText());
    }

    [Fact]
    public async Task Signing_out_at_the_provider_ends_the_gateway_session_through_the_providers_own_back_channel_logout()
    {
        await using var rig = await SignInRig.StartAsync(providerBackChannel: true);
        await using var context = await chromium.NewContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync(rig.Finance() + "/reports");
        await LogInAsync(page, "carol", mfa: false, backAt: rig.Finance());
        var session = await SessionCookieAsync(context, "finance");

        // The person signs out at the provider itself, not at the gateway: the provider posts its logout token.
        await page.GotoAsync(rig.Provider.Issuer + "/session/end");
        await page.Locator("button[name=logout]").ClickAsync();

        Assert.True(await ContinuousGateway.EventuallyAsync(
            async () => (await SignInRig.GetAsync(rig.Finance() + "/reports", "ztgw-finance=" + session)).Status == HttpStatusCode.Unauthorized,
            TimeSpan.FromSeconds(10)), "the provider's back-channel logout did not end the session:\n" + rig.Provider.Output);
        Assert.Equal("token-revoked", SignInRig.Reason((await SignInRig.GetAsync(rig.Finance() + "/reports", "ztgw-finance=" + session)).Body));
        var revocation = File.ReadAllLines(Path.Combine(rig.Gateway.Directory, "state", "ztgw-state.jsonl"))
            .Single(l => l.Contains("\"revoke-session\"", StringComparison.Ordinal));
        Assert.Contains("\"reason\":\"backchannel-logout\"", revocation, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Two_gateway_processes_on_one_redis_accept_each_others_sessions_and_share_their_end()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var rig = await SignInRig.StartAsync(gateways: 2, redis: redis, processes: true);
        await using var context = await chromium.NewContextAsync();
        var page = await context.NewPageAsync();

        // Signed in through the first process; the second, which never saw her, opens the same cookie.
        await page.GotoAsync(rig.Finance(0) + "/reports");
        await LogInAsync(page, "alice", mfa: false, backAt: rig.Finance(0));
        var session = await SessionCookieAsync(context, "finance");
        var (status, body, _) = await SignInRig.GetAsync(rig.Finance(1) + "/reports", "ztgw-finance=" + session);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("\"service\":\"portal\"", body, StringComparison.Ordinal);

        // Signed out at the second: the provider session's revocation reaches the first through Redis.
        await SignOutAsync(page, rig.Finance(1));
        Assert.True(await ContinuousGateway.EventuallyAsync(
            async () => (await SignInRig.GetAsync(rig.Finance(0) + "/reports", "ztgw-finance=" + session)).Status == HttpStatusCode.Unauthorized,
            TimeSpan.FromSeconds(5)), "the sign-out at the second process did not end the session at the first: "
            + string.Join("\n---\n", rig.Directories.Select(d => File.ReadAllText(Path.Combine(d, "state", "ztgw-state.jsonl"))))
            + string.Join("\n", rig.Processes.SelectMany(p => p.Errors)));
        Assert.Equal("token-revoked", SignInRig.Reason((await SignInRig.GetAsync(rig.Finance(0) + "/reports", "ztgw-finance=" + session)).Body));
        Assert.All(rig.Processes, p => Assert.False(p.HasExited));
    }
}

/// <summary>The browser tests share one Chromium.</summary>
[CollectionDefinition(Name)]
public sealed class SharedBrowser : ICollectionFixture<HeadlessChromium>
{
    public const string Name = "browser";
}
