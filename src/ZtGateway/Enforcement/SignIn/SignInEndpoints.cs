using Microsoft.AspNetCore.Authentication;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using ZtGateway.Enforcement.Model;
using ZtGateway.Policy.Engine;
using ZtGateway.Sources.Continuous;

namespace ZtGateway.Enforcement.SignIn;

/// <summary>
/// The endpoints under <c>/.ztgw/</c> of a <c>signIn: true</c> listener: the provider's callback (handled by the OpenID
/// Connect handler), a sign-in link, and sign-out. Any other path under the prefix is <c>route-not-found</c>. Nothing
/// here is ever forwarded, and nothing fails open: an exception is an audited 503.
/// </summary>
internal sealed partial class SignInEndpoints(BrowserSignIn signIn, GatewayStateHolder state, ContinuousEvaluation continuous, TimeProvider time,
    ILogger<SignInEndpoints> logger)
{
    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        if (!SignInPaths.IsReserved(context.Request.Path))
        {
            await next(context);
            return;
        }

        try
        {
            await HandleAsync(context);
        }
        catch (Exception ex) when (!(ex is OperationCanceledException && context.RequestAborted.IsCancellationRequested))
        {
            Log.Failed(logger, signIn.Segment, context.Request.Path.Value ?? string.Empty, ex);
            await SignInAudit.RefuseAsync(context, state, time, signIn.Segment, ReasonCode.InternalError);
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var path = request.Path;
        if (path.Equals(SignInPaths.Callback, StringComparison.OrdinalIgnoreCase)
            || path.Equals(SignInPaths.SignedOutCallback, StringComparison.OrdinalIgnoreCase)
            || path.Equals(SignInPaths.RemoteSignOut, StringComparison.OrdinalIgnoreCase))
        {
            var handlers = context.RequestServices.GetRequiredService<IAuthenticationHandlerProvider>();
            if (await handlers.GetHandlerAsync(context, BrowserSignIn.OidcScheme) is IAuthenticationRequestHandler handler
                && await handler.HandleRequestAsync())
            {
                return;
            }

            await SignInAudit.RefuseAsync(context, state, time, signIn.Segment, ReasonCode.TokenInvalid, signInLink: SignInPaths.SignIn);
            return;
        }

        if (path.Equals(SignInPaths.SignIn, StringComparison.OrdinalIgnoreCase) && (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method)))
        {
            var returnUrl = request.Query["returnUrl"].ToString();
            await BrowserSignIn.ChallengeAsync(context, SignInPaths.IsLocalPath(returnUrl) && !returnUrl.StartsWith(SignInPaths.Prefix + "/", StringComparison.OrdinalIgnoreCase)
                ? returnUrl : "/", stepUp: false, acrValues: null, maxAge: null);
            return;
        }

        if (path.Equals(SignInPaths.SignOut, StringComparison.OrdinalIgnoreCase))
        {
            if (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method))
            {
                await BrowserPages.WriteAsync(context, StatusCodes.Status200OK, BrowserPages.SignOutForm(), await EndSessionEndpointAsync(context));
                return;
            }

            if (HttpMethods.IsPost(request.Method))
            {
                await SignOutAsync(context);
                return;
            }
        }

        if (path.Equals(SignInPaths.SignedOut, StringComparison.OrdinalIgnoreCase) && (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method)))
        {
            await BrowserPages.WriteAsync(context, StatusCodes.Status200OK, BrowserPages.SignedOut());
            return;
        }

        await SignInAudit.RefuseAsync(context, state, time, signIn.Segment, ReasonCode.RouteNotFound);
    }

    // Ends the session here (the cookie, and the provider session it came from for every replica: a revoke-session
    // record), then at the provider when it has an end_session_endpoint.
    private async Task SignOutAsync(HttpContext context)
    {
        var request = context.Request;
        if (request.Headers.Origin is { Count: > 0 } origin && !SameOrigin(request, origin.ToString()))
        {
            // A cross-site form cannot sign a person out (the Lax cookie would not come with it anyway).
            await SignInAudit.RefuseAsync(context, state, time, signIn.Segment, ReasonCode.DeniedByRule);
            return;
        }

        var read = signIn.ReadSession(request);
        signIn.DeleteSession(context);
        if (read?.Session is { Principal.SessionId: { } sid } session)
        {
            continuous.Commit(new JournalRecord
            {
                Type = JournalRecordTypes.RevokeSession,
                Time = time.GetUtcNow(),
                Issuer = session.Principal.Issuer,
                Target = JournalRecordTypes.SessionTarget,
                Id = sid,
                At = time.GetUtcNow(),
                Reason = "sign-out",
                Actor = session.Principal.Subject,
            });
        }

        Log.SignedOut(logger, signIn.Segment, read?.Session?.Principal.Subject ?? "(no session)");
        if (read?.Session is { } ended)
        {
            // A sign-out without a session that opens ends nobody's: it is logged, not audited as a logoff.
            SignInAudit.SignedOut(context, state, time, signIn, ended);
        }

        var signedOut = request.Scheme + "://" + request.Host + SignInPaths.SignedOut;
        if (await EndSessionEndpointAsync(context) is { } endSession)
        {
            var message = new OpenIdConnectMessage
            {
                IssuerAddress = endSession.AbsoluteUri,
                ClientId = signIn.Context.Settings.ClientId,
                PostLogoutRedirectUri = signedOut,
            };
            context.Response.Redirect(message.CreateLogoutRequestUrl());
            return;
        }

        context.Response.Redirect(SignInPaths.SignedOut);
    }

    // The provider's end_session_endpoint, or null when it has none or its metadata cannot be read now.
    private async Task<Uri?> EndSessionEndpointAsync(HttpContext context)
    {
        OpenIdConnectConfiguration? configuration;
        try
        {
            configuration = await state.Current.Tokens.GetProviderConfigurationAsync(signIn.Context.Issuer.Name, context.RequestAborted);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.EndSessionUnavailable(logger, signIn.Segment, ex.Message);
            return null;
        }

        return configuration?.EndSessionEndpoint is { Length: > 0 } endSession && Uri.TryCreate(endSession, UriKind.Absolute, out var uri)
            && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp)
            ? uri : null;
    }

    private static bool SameOrigin(HttpRequest request, string origin) =>
        string.Equals(origin, request.Scheme + "://" + request.Host.Value, StringComparison.OrdinalIgnoreCase);

    private static partial class Log
    {
        [LoggerMessage(EventId = 1403, Level = LogLevel.Error, Message = "Segment {Segment}: the sign-in endpoint {Path} failed; answered 503")]
        public static partial void Failed(ILogger logger, string segment, string path, Exception exception);

        [LoggerMessage(EventId = 1404, Level = LogLevel.Information, Message = "Segment {Segment}: {Subject} signed out")]
        public static partial void SignedOut(ILogger logger, string segment, string subject);

        [LoggerMessage(EventId = 1405, Level = LogLevel.Warning, Message = "Segment {Segment}: the provider's end_session_endpoint is unknown ({Reason}); signed out here only")]
        public static partial void EndSessionUnavailable(ILogger logger, string segment, string reason);
    }
}
