using System.Text;
using System.Text.Encodings.Web;

namespace ZtGateway.DevTools;

/// <summary>
/// The pages a browser sees at the development identity provider: the login form of <c>/authorize</c>, the page of a
/// request that cannot go back to its client, and "signed out". Every value is HTML-encoded, no script runs, and no
/// other site may frame them.
/// </summary>
internal static class DevLoginPage
{
    /// <summary>The login form: a sample user, the password, "Use MFA", and the request in hidden fields.</summary>
    /// <param name="request">The checked request the form answers.</param>
    /// <param name="users">The users to choose from.</param>
    /// <param name="selectedUser">The user chosen before, or null for the first.</param>
    /// <param name="mfa">Whether "Use MFA" starts checked.</param>
    /// <param name="message">Why the form is shown again (a wrong password), or null.</param>
    public static IResult Form(DevAuthorizationRequest request, IReadOnlyList<DevUser> users, string? selectedUser, bool mfa, string? message)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(users);
        var html = new StringBuilder();
        html.Append("<h1>Sign in</h1>\n<p><b>").Append(Encode(request.Client.ClientId)).Append("</b> asks you to sign in.</p>\n");
        if (message is not null)
        {
            html.Append("<p class=\"error\" role=\"alert\">").Append(Encode(message)).Append("</p>\n");
        }

        html.Append("<form method=\"post\" action=\"authorize\">\n");
        foreach (var (name, value) in request.Parameters)
        {
            html.Append("<input type=\"hidden\" name=\"").Append(Encode(name)).Append("\" value=\"").Append(Encode(value)).Append("\">\n");
        }

        html.Append("<label>User <select name=\"username\" autofocus>\n");
        foreach (var user in users)
        {
            var selected = string.Equals(user.Name, selectedUser, StringComparison.Ordinal) ? " selected" : string.Empty;
            var groups = string.Join(", ", user.Groups.Concat(user.Roles));
            html.Append("<option value=\"").Append(Encode(user.Name)).Append('"').Append(selected).Append('>')
                .Append(Encode(user.Name)).Append(groups.Length > 0 ? " (" + Encode(groups) + ")" : string.Empty).Append("</option>\n");
        }

        html.Append("</select></label>\n")
            .Append("<label>Password <input type=\"password\" name=\"password\" autocomplete=\"current-password\"></label>\n")
            .Append("<label class=\"check\"><input type=\"checkbox\" name=\"mfa\" value=\"true\"").Append(mfa ? " checked" : string.Empty)
            .Append("> Use MFA (stands for a one-time code)</label>\n")
            .Append("<p><button type=\"submit\" name=\"action\" value=\"login\">Sign in</button> ")
            .Append("<button type=\"submit\" name=\"action\" value=\"cancel\">Cancel</button></p>\n")
            .Append("</form>\n")
            .Append("<p class=\"hint\">Every sample user's password is <code>").Append(Encode(DevIdentityProvider.DevPassword)).Append("</code>.</p>\n");
        return Page("Sign in", html.ToString(), StatusCodes.Status200OK);
    }

    /// <summary>A page with a title and one paragraph, such as a refused request or "signed out".</summary>
    public static IResult Message(string title, string text, int status) =>
        Page(title, $"<h1>{Encode(title)}</h1>\n<p>{Encode(text)}</p>\n", status);

    private static string Encode(string value) => HtmlEncoder.Default.Encode(value);

    private static HtmlResult Page(string title, string body, int status) => new($$"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{Encode(title)}} - ZtGateway development identity provider</title>
        <style>
        body { font-family: system-ui, sans-serif; max-width: 28rem; margin: 3rem auto; padding: 0 1rem; }
        .banner { background: #b00020; color: #fff; padding: .5rem; font-weight: bold; text-align: center; }
        label { display: block; margin: .8rem 0; }
        select, input[type=password] { display: block; width: 100%; padding: .3rem; }
        .check { display: flex; gap: .4rem; align-items: center; }
        .error { color: #b00020; }
        .hint { color: #555; font-size: .9rem; }
        </style>
        </head>
        <body>
        <div class="banner">DEVELOPMENT IDENTITY PROVIDER - NEVER USE IN PRODUCTION</div>
        {{body}}</body>
        </html>

        """, status);

    private sealed class HtmlResult(string html, int status) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            var response = httpContext.Response;
            response.StatusCode = status;
            response.ContentType = "text/html; charset=utf-8";
            response.Headers.CacheControl = "no-store";
            // No form-action: after the login form's POST the browser follows a redirect to the client, which
            // browsers check against form-action too.
            response.Headers.ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'";
            response.Headers.XContentTypeOptions = "nosniff";
            response.Headers["Referrer-Policy"] = "no-referrer";
            return response.WriteAsync(html, httpContext.RequestAborted);
        }
    }
}
