using System.Net;
using System.Text;
using ZtGateway.Policy.Engine;

namespace ZtGateway.Enforcement.SignIn;

/// <summary>
/// The small HTML pages a browser gets: a refusal (reason code, what to do, decision id, trace id) with the same status
/// and audit line as the problem+json an API gets, and the sign-out pages. Nothing in them comes from the request or
/// the token except ids the gateway made; every value is HTML-encoded anyway.
/// </summary>
internal static class BrowserPages
{
    public const string HtmlContentType = "text/html; charset=utf-8";

    /// <summary>True when the caller asks for HTML (a browser navigating), as opposed to an API client.</summary>
    public static bool WantsHtml(HttpRequest request)
    {
        foreach (var accept in request.Headers.Accept)
        {
            if (accept is not null && accept.Contains("text/html", StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>What a person can do about a refusal, in one sentence.</summary>
    public static string Advice(ReasonCode reason) => reason switch
    {
        ReasonCode.TokenMissing or ReasonCode.TokenExpired => "Sign in to continue.",
        ReasonCode.TokenInvalid or ReasonCode.TokenRevoked => "Your sign-in is no longer accepted here. Sign in again.",
        ReasonCode.MfaRequired or ReasonCode.AuthTooOld or ReasonCode.AcrInsufficient =>
            "This page needs a stronger or more recent sign-in than the one you just made. Ask your administrator what it requires.",
        ReasonCode.DeviceMissing or ReasonCode.DeviceInvalid or ReasonCode.DeviceNoncompliant or ReasonCode.DeviceUnmanaged
            or ReasonCode.DeviceRiskTooHigh => "Use a managed, compliant device for this page.",
        ReasonCode.DeviceQuarantined or ReasonCode.PrincipalQuarantined => "Access is suspended. Contact your security team.",
        ReasonCode.RouteNotFound => "There is no such page here.",
        ReasonCode.RateLimited => "Wait a moment before trying again.",
        ReasonCode.UpstreamUnavailable or ReasonCode.UpstreamTimeout or ReasonCode.InternalError => "Try again in a moment.",
        _ => "You are not allowed to open this page from where you are. Ask your administrator if you need it.",
    };

    /// <summary>The refusal page; <paramref name="signInLink"/> adds a sign-in link (a listener that signs people in).</summary>
    public static string Refusal(ReasonCode reason, int status, string decisionId, string traceId, string? signInLink)
    {
        var code = reason.ToCode();
        var body = new StringBuilder(1024)
            .Append("<p class=\"reason\">Reason: <code>").Append(Encode(code)).Append("</code></p>")
            .Append("<p>").Append(Encode(Advice(reason))).Append("</p>");
        if (signInLink is not null)
        {
            body.Append("<p><a id=\"sign-in\" href=\"").Append(Encode(signInLink)).Append("\">Sign in</a></p>");
        }

        body.Append("<p class=\"ids\">Decision id: <code id=\"decision-id\">").Append(Encode(decisionId))
            .Append("</code><br>Trace id: <code id=\"trace-id\">").Append(Encode(traceId)).Append("</code></p>")
            .Append("<p class=\"ids\">Give these ids to your support team: they find this decision in the audit trail.</p>");
        return Page(status + " " + ReasonStatus.Title(reason), body.ToString());
    }

    /// <summary>The page behind <c>GET /.ztgw/sign-out</c>: one button that posts the sign-out.</summary>
    public static string SignOutForm() => Page("Sign out",
        "<form method=\"post\" action=\"" + SignInPaths.SignOut + "\"><button id=\"sign-out\" type=\"submit\">Sign out</button></form>");

    /// <summary>The page after a sign-out.</summary>
    public static string SignedOut() => Page("Signed out",
        "<p id=\"signed-out\">You are signed out of this segment.</p><p><a href=\"" + SignInPaths.SignIn + "\">Sign in again</a></p>");

    /// <summary>
    /// Writes a page that loads nothing and frames nowhere. Forms post to this origin only, or also to
    /// <paramref name="formTarget"/>'s origin (the provider a sign-out is redirected to: browsers hold the redirect
    /// after a form post to <c>form-action</c> too).
    /// </summary>
    public static Task WriteAsync(HttpContext context, int status, string html, Uri? formTarget = null)
    {
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = HtmlContentType;
        response.Headers.CacheControl = "no-store";
        response.Headers.XContentTypeOptions = "nosniff";
        var formAction = formTarget is null ? "'self'" : "'self' " + formTarget.GetLeftPart(UriPartial.Authority);
        response.Headers.ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; form-action " + formAction + "; frame-ancestors 'none'";
        var bytes = Encoding.UTF8.GetBytes(html);
        response.ContentLength = bytes.Length;
        return HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : response.Body.WriteAsync(bytes, 0, bytes.Length, context.RequestAborted);
    }

    private static string Page(string title, string body) =>
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + Encode(title) + "</title>"
        + "<style>body{font-family:sans-serif;max-width:40em;margin:3em auto;color:#222}code{background:#eee;padding:0 .2em}.ids{color:#555;font-size:.9em}</style>"
        + "</head><body><h1>" + Encode(title) + "</h1>" + body + "</body></html>";

    private static string Encode(string value) => WebUtility.HtmlEncode(value);
}
