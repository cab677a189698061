using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using ZtGateway.Enforcement.Model;
using ZtGateway.Policy.Engine;
using ZtGateway.Sources.Identity.Sessions;

namespace ZtGateway.Enforcement.SignIn;

/// <summary>
/// Browser sign-in on one <c>signIn: true</c> segment listener (docs/design.md section 3.1): reads the session cookie as
/// the request's credential, and turns the refusals a sign-in can cure into a redirect to the provider. The session only
/// stands in for a bearer token: the principal it carries goes through the same decision engine.
/// </summary>
internal sealed partial class BrowserSignIn
{
    /// <summary>The authentication scheme of the OpenID Connect handler (ASP.NET Core's, or Microsoft.Identity.Web's for entra).</summary>
    public const string OidcScheme = "ztgw-oidc";

    /// <summary>The scheme that writes the session cookie once the handler verified the callback.</summary>
    public const string SessionScheme = "ztgw-session";

    /// <summary>Where the callback leaves the session it made for <see cref="SessionSignInHandler"/>.</summary>
    public const string PendingSessionKey = "ztgw.pending-session";

    /// <summary>Challenge item: the sign-in is a step-up asked for by a refusal.</summary>
    public const string StepUpItem = "ztgw.step-up";

    /// <summary>Challenge item: the <c>acr_values</c> to ask for.</summary>
    public const string AcrValuesItem = "ztgw.acr-values";

    /// <summary>
    /// A session made by a step-up sign-in less than this long ago is not sent to step up again: if it still falls short,
    /// the browser gets the refusal (never a redirect loop).
    /// </summary>
    public static readonly TimeSpan StepUpLoopGuard = TimeSpan.FromMinutes(2);

    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public BrowserSignIn(SignInContext context, string segment, TimeProvider timeProvider, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentException.ThrowIfNullOrEmpty(segment);
        Context = context;
        Segment = segment;
        _time = timeProvider;
        _logger = logger;
        Protector = new SessionProtector(context.Keys, segment);
        CookieName = "ztgw-" + segment;
        SecureCookieName = "__Host-ztgw-" + segment;
    }

    public SignInContext Context { get; }

    public string Segment { get; }

    public SessionProtector Protector { get; }

    /// <summary>The session cookie's name on a plain-http (loopback) listener.</summary>
    public string CookieName { get; }

    /// <summary>The session cookie's name over TLS: <c>__Host-</c>, so it is Secure, host-only and for the whole origin.</summary>
    public string SecureCookieName { get; }

    /// <summary>True for the name of a cookie the gateway writes (sessions of any segment, the handler's correlation and nonce cookies).</summary>
    public static bool IsGatewayCookie(string name) =>
        name.StartsWith("ztgw-", StringComparison.Ordinal) || name.StartsWith("__Host-ztgw-", StringComparison.Ordinal)
        || name.StartsWith("ztgw.", StringComparison.Ordinal) || name.StartsWith("__Host-ztgw.", StringComparison.Ordinal);

    private string NameFor(HttpRequest request) => request.IsHttps ? SecureCookieName : CookieName;

    /// <summary>The request's session, judged as a credential; null when it brings no session cookie.</summary>
    public SessionRead? ReadSession(HttpRequest request)
    {
        var value = request.Cookies[NameFor(request)];
        if (value is null)
        {
            return null;
        }

        var read = Protector.Open(value, _time.GetUtcNow());
        if (read.Session is { } session && !string.Equals(session.IssuerName, Context.Settings.Issuer, StringComparison.Ordinal))
        {
            // Made while sign-in used another issuer: that issuer's people are not this one's.
            return SessionRead.Invalid("session of issuer " + session.IssuerName + ", sign-in uses " + Context.Settings.Issuer);
        }

        return read;
    }

    /// <summary>Writes the session cookie.</summary>
    public void WriteSession(HttpContext context, BrowserSession session)
    {
        var sealedSession = Protector.Seal(session);
        context.Response.Cookies.Append(NameFor(context.Request), sealedSession, CookieOptions(context.Request, session.Expires));
    }

    /// <summary>Deletes the session cookie.</summary>
    public void DeleteSession(HttpContext context) =>
        context.Response.Cookies.Delete(NameFor(context.Request), CookieOptions(context.Request, expires: null));

    private static CookieOptions CookieOptions(HttpRequest request, DateTimeOffset? expires) => new()
    {
        HttpOnly = true,
        Secure = request.IsHttps,
        SameSite = SameSiteMode.Lax,
        Path = "/",
        Expires = expires,
        IsEssential = true,
    };

    /// <summary>The link a refusal page offers to sign in and come back to this request's page.</summary>
    public static string SignInLink(HttpRequest request) =>
        SignInPaths.SignIn + "?returnUrl=" + Uri.EscapeDataString(LocalTarget(request));

    private static string LocalTarget(HttpRequest request)
    {
        var target = (request.PathBase + request.Path).Value + request.QueryString.Value;
        return SignInPaths.IsLocalPath(target) && !SignInPaths.IsReserved(request.Path) ? target : "/";
    }

    /// <summary>What a refused browser request gets instead of the refusal page, if anything.</summary>
    public BrowserAnswer Answer(HttpRequest request, ReasonCode reason, SessionRead? session)
    {
        if (!HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method) || !BrowserPages.WantsHtml(request))
        {
            return BrowserAnswer.None;
        }

        switch (reason)
        {
            case ReasonCode.TokenMissing when session is null:
            case ReasonCode.TokenExpired when session is not null:
                return BrowserAnswer.SignIn;
            case ReasonCode.MfaRequired or ReasonCode.AuthTooOld or ReasonCode.AcrInsufficient
                when session?.Session is { } current && current.Principal is not null:
                return current.SteppedUpAt is { } stepped && _time.GetUtcNow() - stepped < StepUpLoopGuard ? BrowserAnswer.None : BrowserAnswer.StepUp;
            default:
                return BrowserAnswer.None;
        }
    }

    /// <summary>Sends the browser to the provider; it comes back to <paramref name="returnUrl"/> (a local path).</summary>
    public static Task ChallengeAsync(HttpContext context, string returnUrl, bool stepUp, IReadOnlyList<string>? acrValues, TimeSpan? maxAge)
    {
        var properties = new OpenIdConnectChallengeProperties { RedirectUri = SignInPaths.IsLocalPath(returnUrl) ? returnUrl : "/" };
        if (stepUp)
        {
            properties.Items[StepUpItem] = "1";
            properties.Prompt = "login";
            if (maxAge is { } age)
            {
                properties.MaxAge = age;
            }

            if (acrValues is { Count: > 0 })
            {
                properties.Items[AcrValuesItem] = string.Join(' ', acrValues);
            }
        }

        return context.ChallengeAsync(OidcScheme, properties);
    }

    /// <summary>Challenges for <paramref name="answer"/> after a refusal of this request.</summary>
    public static Task ChallengeAsync(HttpContext context, BrowserAnswer answer, Decision decision) =>
        ChallengeAsync(context, LocalTarget(context.Request), answer == BrowserAnswer.StepUp, decision.AcrValues, decision.MaxAuthAge);
}

/// <summary>What a refused browser request gets.</summary>
internal enum BrowserAnswer
{
    /// <summary>The refusal (an HTML page).</summary>
    None,

    /// <summary>A redirect to the provider to sign in.</summary>
    SignIn,

    /// <summary>A redirect to the provider to sign in again, more strongly or more recently.</summary>
    StepUp,
}
