using System.Net.Http.Headers;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Yarp.ReverseProxy.Transforms;
using ZtGateway.Enforcement;
using ZtGateway.Enforcement.SignIn;
using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Engine;
using ZtGateway.Sources.Identity.Sessions;

namespace ZtGateway.Tests.Enforcement;

/// <summary>
/// What a refused browser request gets on a signIn listener (redirect to sign in, to step up, or the refusal), the
/// return-path check, and the outbound transform that keeps the gateway's cookies from upstreams.
/// </summary>
public sealed class BrowserSignInTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2026, 12, 4, 9, 0, 0, TimeSpan.Zero);

    private readonly DirectoryInfo _keys = Directory.CreateTempSubdirectory("ztgw-signin-keys-");
    private readonly FakeTimeProvider _time = new(Now);
    private readonly BrowserSignIn _signIn;

    public BrowserSignInTests()
    {
        var provider = DataProtectionProvider.Create(_keys, b => b.SetApplicationName("ztgw"));
        var settings = new SignInSettings { Issuer = "corp", ClientId = "ztgw-web", ClientSecretFile = "/dev/null" };
        var issuer = new IssuerConfig { Name = "corp", Type = IssuerType.Oidc, Authority = "http://127.0.0.1:1" };
        _signIn = new BrowserSignIn(new SignInContext(settings, issuer, "secret", provider), "finance", _time, NullLogger.Instance);
    }

    public void Dispose() => _keys.Delete(recursive: true);

    private static HttpRequest Request(string method = "GET", string accept = "text/html,application/xhtml+xml", string path = "/ledger/report")
    {
        var context = new DefaultHttpContext();
        context.Request.Method = method;
        context.Request.Path = path;
        context.Request.Headers.Accept = accept;
        return context.Request;
    }

    private SessionRead Session(DateTimeOffset? steppedUpAt = null) =>
        _signIn.Protector.Open(_signIn.Protector.Seal(new BrowserSession
        {
            Segment = "finance",
            IssuerName = "corp",
            Principal = new Principal { Kind = PrincipalKind.User, Subject = "alice", Issuer = "https://idp.test", IssuedAt = Now },
            Created = Now,
            Expires = Now.AddHours(1),
            SteppedUpAt = steppedUpAt,
        }), Now);

    [Fact]
    public void A_browser_without_credentials_is_sent_to_sign_in_and_an_api_client_is_not()
    {
        Assert.Equal(BrowserAnswer.SignIn, _signIn.Answer(Request(), ReasonCode.TokenMissing, session: null));
        Assert.Equal(BrowserAnswer.SignIn, _signIn.Answer(Request(method: "HEAD"), ReasonCode.TokenMissing, session: null));
        Assert.Equal(BrowserAnswer.None, _signIn.Answer(Request(accept: "application/json"), ReasonCode.TokenMissing, session: null));
        Assert.Equal(BrowserAnswer.None, _signIn.Answer(Request(accept: "*/*"), ReasonCode.TokenMissing, session: null));
        Assert.Equal(BrowserAnswer.None, _signIn.Answer(Request(method: "POST"), ReasonCode.TokenMissing, session: null));
    }

    [Fact]
    public void Refusals_a_sign_in_cannot_cure_are_never_redirected()
    {
        foreach (var reason in new[] { ReasonCode.TokenInvalid, ReasonCode.TokenRevoked, ReasonCode.NoMatchingRule, ReasonCode.SegmentNotAllowed,
                     ReasonCode.DeviceMissing, ReasonCode.RouteNotFound, ReasonCode.PrincipalQuarantined })
        {
            Assert.Equal(BrowserAnswer.None, _signIn.Answer(Request(), reason, Session()));
        }
    }

    [Fact]
    public void A_session_that_falls_short_is_sent_to_step_up_once_and_then_refused()
    {
        foreach (var reason in new[] { ReasonCode.MfaRequired, ReasonCode.AuthTooOld, ReasonCode.AcrInsufficient })
        {
            Assert.Equal(BrowserAnswer.StepUp, _signIn.Answer(Request(), reason, Session()));
            Assert.Equal(BrowserAnswer.None, _signIn.Answer(Request(), reason, Session(steppedUpAt: Now.AddSeconds(-30))));
            Assert.Equal(BrowserAnswer.StepUp, _signIn.Answer(Request(), reason, Session(steppedUpAt: Now - BrowserSignIn.StepUpLoopGuard)));
        }

        // No session: nothing to step up from.
        Assert.Equal(BrowserAnswer.None, _signIn.Answer(Request(), ReasonCode.MfaRequired, session: null));
    }

    [Fact]
    public void An_ended_session_is_sent_to_sign_in_again()
    {
        var ended = _signIn.Protector.Open(_signIn.Protector.Seal(new BrowserSession
        {
            Segment = "finance",
            IssuerName = "corp",
            Principal = new Principal { Kind = PrincipalKind.User, Subject = "alice", Issuer = "https://idp.test" },
            Created = Now.AddHours(-9),
            Expires = Now.AddHours(-1),
        }), Now);

        Assert.Equal(TokenStatus.Expired, ended.Outcome.Status);
        Assert.Equal(BrowserAnswer.SignIn, _signIn.Answer(Request(), ReasonCode.TokenExpired, ended));
    }

    [Theory]
    [InlineData("/", true)]
    [InlineData("/ledger/report?q=1", true)]
    [InlineData("//evil.example/x", false)]
    [InlineData("/\\evil.example", false)]
    [InlineData("https://evil.example/", false)]
    [InlineData("evil", false)]
    [InlineData("", false)]
    [InlineData("/a\nb", false)]
    public void Only_local_paths_are_return_targets(string returnUrl, bool local) => Assert.Equal(local, SignInPaths.IsLocalPath(returnUrl));

    [Fact]
    public async Task The_gateway_cookies_are_taken_off_the_upstream_request_and_the_others_pass()
    {
        var proxyRequest = new HttpRequestMessage(HttpMethod.Get, "http://upstream/");
        proxyRequest.Headers.TryAddWithoutValidation("Cookie",
            "theme=dark; ztgw-finance=sealed; __Host-ztgw-hr=sealed2; ztgw.correlation.abc=N; app=1");
        var context = new RequestTransformContext { HttpContext = new DefaultHttpContext(), ProxyRequest = proxyRequest, Path = "/" };

        await OutboundHeaders.RemoveGatewayCookies(context);

        Assert.Equal("theme=dark; app=1", string.Join("; ", proxyRequest.Headers.GetValues("Cookie")));
    }

    [Fact]
    public async Task A_request_with_only_gateway_cookies_goes_upstream_without_a_cookie_header()
    {
        var proxyRequest = new HttpRequestMessage(HttpMethod.Get, "http://upstream/");
        proxyRequest.Headers.TryAddWithoutValidation("Cookie", "ztgw-finance=sealed");
        var context = new RequestTransformContext { HttpContext = new DefaultHttpContext(), ProxyRequest = proxyRequest, Path = "/" };

        await OutboundHeaders.RemoveGatewayCookies(context);

        Assert.False(proxyRequest.Headers.Contains("Cookie"));
    }
}
