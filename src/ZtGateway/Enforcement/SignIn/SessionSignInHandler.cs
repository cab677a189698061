using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using ZtGateway.Sources.Identity.Sessions;

namespace ZtGateway.Enforcement.SignIn;

/// <summary>
/// The sign-in scheme of the OpenID Connect handler: once the callback verified, writes the session the gateway made from
/// the ID token (left in <see cref="HttpContext.Items"/> by the token-validated event) as the segment's cookie. It
/// authenticates nothing: requests are judged by the enforcement middleware.
/// </summary>
internal sealed class SessionSignInHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder,
    BrowserSignIn signIn) : SignInAuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override Task<AuthenticateResult> HandleAuthenticateAsync() => Task.FromResult(AuthenticateResult.NoResult());

    protected override Task HandleSignInAsync(System.Security.Claims.ClaimsPrincipal user, AuthenticationProperties? properties)
    {
        if (Context.Items[BrowserSignIn.PendingSessionKey] is not BrowserSession session)
        {
            throw new InvalidOperationException("the sign-in callback made no session");
        }

        signIn.WriteSession(Context, session);
        return Task.CompletedTask;
    }

    // Only the handler's front-channel logout path (/.ztgw/remote-sign-out) signs out through this scheme, and it would end
    // the session on a GET any page can make (with no sid it matches every session). It is not honoured: sessions end by
    // the gateway's own sign-out (a same-origin POST), back-channel logout and revocations, which also reach every copy.
    protected override Task HandleSignOutAsync(AuthenticationProperties? properties) => Task.CompletedTask;
}
