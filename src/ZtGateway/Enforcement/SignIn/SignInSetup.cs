using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.Identity.Web;
using Microsoft.IdentityModel.Tokens;
using ZtGateway.Enforcement.Model;
using ZtGateway.Policy.Configuration;
using ZtGateway.Sources.Identity;
using ZtGateway.Sources.Identity.Sessions;

namespace ZtGateway.Enforcement.SignIn;

/// <summary>
/// Registers browser sign-in on a segment listener: <c>type: oidc</c> through ASP.NET Core's OpenID Connect handler,
/// <c>type: entra</c> through Microsoft.Identity.Web's web-app sign-in (which configures the same handler its own way),
/// then the gateway's settings on top of either: authorization code with PKCE, <c>state</c> and <c>nonce</c>, the
/// provider metadata and keys of the live issuer (<see cref="SignInProviderMetadata"/>), and the ID token verified once
/// more by the gateway's own token verifier and mapped by the one principal mapping.
/// </summary>
internal static partial class SignInSetup
{
    public static void Add(IServiceCollection services, BrowserSignIn signIn, GatewayStateHolder state, TimeProvider time, ILogger logger)
    {
        services.AddSingleton(signIn);
        var authentication = services.AddAuthentication();
        authentication.AddScheme<AuthenticationSchemeOptions, SessionSignInHandler>(BrowserSignIn.SessionScheme, _ => { });
        var issuer = signIn.Context.Issuer;
        if (issuer.Type == IssuerType.Entra)
        {
            authentication.AddMicrosoftIdentityWebApp(identity =>
                {
                    identity.Instance = string.IsNullOrWhiteSpace(issuer.Instance) ? "https://login.microsoftonline.com/" : issuer.Instance.Trim();
                    identity.TenantId = issuer.TenantId;
                    identity.ClientId = signIn.Context.Settings.ClientId;
                    identity.ClientSecret = signIn.Context.ClientSecret;
                    identity.CallbackPath = SignInPaths.Callback;
                    identity.SignedOutCallbackPath = SignInPaths.SignedOutCallback;
                    identity.RemoteSignOutPath = SignInPaths.RemoteSignOut;
                    identity.ResponseType = "code";
                    identity.UsePkce = true;
                },
                configureCookieAuthenticationOptions: null,
                openIdConnectScheme: BrowserSignIn.OidcScheme,
                cookieScheme: null);

            // After Microsoft.Identity.Web's own configuration (registered later, so it runs later), so the gateway's choices
            // are the ones in force; and, as for oidc, before the handler's post-configuration, which would otherwise build
            // a metadata manager of its own from the authority (refusing a plain-http instance on every request) and a
            // backchannel without the gateway's timeout.
            services.Configure<OpenIdConnectOptions>(BrowserSignIn.OidcScheme, options => Configure(options, signIn, state, time, logger));
        }
        else
        {
            authentication.AddOpenIdConnect(BrowserSignIn.OidcScheme, options => Configure(options, signIn, state, time, logger));
        }
    }

    private static void Configure(OpenIdConnectOptions options, BrowserSignIn signIn, GatewayStateHolder state, TimeProvider time, ILogger logger)
    {
        var settings = signIn.Context.Settings;
        options.ClientId = settings.ClientId;
        options.ClientSecret = signIn.Context.ClientSecret;
        options.ResponseType = "code";
        options.ResponseMode = "query";
        options.UsePkce = true;
        options.CallbackPath = SignInPaths.Callback;
        options.SignedOutCallbackPath = SignInPaths.SignedOutCallback;
        options.RemoteSignOutPath = SignInPaths.RemoteSignOut;
        options.SignInScheme = BrowserSignIn.SessionScheme;
        options.SignOutScheme = BrowserSignIn.SessionScheme;
        options.Scope.Clear();
        foreach (var scope in settings.Scopes)
        {
            options.Scope.Add(scope);
        }

        options.SaveTokens = false;
        options.GetClaimsFromUserInfoEndpoint = false;
        options.MapInboundClaims = false;
        options.UseTokenLifetime = false;
        options.DisableTelemetry = true;
        options.Authority = null;
        options.MetadataAddress = null;
        options.Configuration = null;
        options.ConfigurationManager = new SignInProviderMetadata(state, signIn.Context.Issuer.Name);
        options.DataProtectionProvider = signIn.Context.Keys;
        options.TimeProvider = time;
        options.BackchannelTimeout = TimeSpan.FromSeconds(10);
        options.RemoteAuthenticationTimeout = TimeSpan.FromMinutes(15);

        // The handler checks the signature, issuer, audience and nonce with the live issuer's keys; the lifetime, on the
        // gateway's clock, and everything else once more by the gateway's verifier in OnTokenValidated.
        options.TokenValidationParameters = new TokenValidationParameters
        {
            ValidAudience = settings.ClientId,
            ValidateIssuer = true,
            ValidateAudience = true,
            ValidateLifetime = false,
            RequireSignedTokens = true,
            ValidAlgorithms = ValidationParametersFactory.AllowedAlgorithms,
            NameClaimType = "sub",
        };

        // Lax, not None: the provider comes back with a top-level GET (response_mode=query). Secure over TLS.
        foreach (var cookie in new[] { options.CorrelationCookie, options.NonceCookie })
        {
            cookie.SameSite = SameSiteMode.Lax;
            cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            cookie.HttpOnly = true;
            cookie.IsEssential = true;
            cookie.Path = SignInPaths.Prefix;
        }

        options.CorrelationCookie.Name = "ztgw.correlation.";
        options.NonceCookie.Name = "ztgw.nonce.";

        var events = options.Events ?? new OpenIdConnectEvents();
        var redirect = events.OnRedirectToIdentityProvider;
        events.OnRedirectToIdentityProvider = async context =>
        {
            if (redirect is not null)
            {
                await redirect(context);
            }

            if (context.Properties.Items.TryGetValue(BrowserSignIn.AcrValuesItem, out var acr) && !string.IsNullOrEmpty(acr))
            {
                context.ProtocolMessage.AcrValues = acr;
            }
        };

        var validated = events.OnTokenValidated;
        events.OnTokenValidated = async context =>
        {
            // Whom the ID token names, now that the handler verified its signature (read from the token: the handler's
            // principal may have mapped its claims): a callback refused from here on is still audited as that person's.
            if (context.SecurityToken is { Subject.Length: > 0 } token)
            {
                context.HttpContext.Items[AttemptKey] = new SignInAttempt(token.Subject,
                    token.Payload.TryGetValue("preferred_username", out var name) ? name as string : null,
                    context.Properties?.Items.ContainsKey(BrowserSignIn.StepUpItem));
            }

            if (validated is not null)
            {
                await validated(context);
                if (context.Result is not null)
                {
                    return;
                }
            }

            await MakeSessionAsync(context, signIn, state, time);
        };

        // Logged once the handler's last checks (the nonce among them, which it makes after the token-validated event)
        // passed too: only a callback that makes a session is a sign-in.
        var received = events.OnTicketReceived;
        events.OnTicketReceived = async context =>
        {
            if (received is not null)
            {
                await received(context);
            }

            if (context.Result is null && context.HttpContext.Items[BrowserSignIn.PendingSessionKey] is BrowserSession session)
            {
                Log.SignedIn(logger, signIn.Segment, session.Principal.Subject, signIn.Context.Issuer.Name, session.SteppedUpAt is not null);
                SignInAudit.SignedIn(context.HttpContext, state, time, signIn, session, (context.HttpContext.Items[AttemptKey] as SignInAttempt)?.UserName);
            }
        };

        var failed = events.OnRemoteFailure;
        events.OnRemoteFailure = async context =>
        {
            if (failed is not null)
            {
                await failed(context);
                if (context.Result is not null)
                {
                    return;
                }
            }

            var failure = context.Failure?.Message ?? "unknown";
            Log.CallbackFailed(logger, signIn.Segment, failure);
            context.HandleResponse();
            var attempt = context.HttpContext.Items[AttemptKey] as SignInAttempt;
            var stepUp = context.Properties is { } properties ? properties.Items.ContainsKey(BrowserSignIn.StepUpItem) : attempt?.StepUp;
            await SignInAudit.CallbackRefusedAsync(context.HttpContext, state, time, signIn, failure, stepUp, attempt?.Subject, attempt?.UserName);
        };

        options.Events = events;
    }

    /// <summary>The start of a session id the gateway made because the ID token had no <c>sid</c>.</summary>
    public const string GatewaySessionPrefix = "ztgw:";

    // Where the token-validated event leaves whom the callback's ID token names, for the audit of the sign-in (its
    // preferred_username) or of a refusal after it.
    private const string AttemptKey = "ztgw.sign-in-attempt";

    private static async Task MakeSessionAsync(TokenValidatedContext context, BrowserSignIn signIn, GatewayStateHolder state, TimeProvider time)
    {
        var settings = signIn.Context.Settings;
        var idToken = context.TokenEndpointResponse?.IdToken ?? context.ProtocolMessage?.IdToken;
        if (string.IsNullOrEmpty(idToken))
        {
            context.Fail("the provider returned no ID token");
            return;
        }

        // The gateway's own verdict on the ID token: its one verifier, with the sign-in client as audience.
        var check = await state.Current.Tokens.VerifyIssuedForAsync(signIn.Context.Issuer.Name, idToken, settings.ClientId, context.HttpContext.RequestAborted);
        if (check.Status != Policy.Engine.TokenStatus.Valid || check.Token is null)
        {
            context.Fail("ID token refused: " + check.Detail);
            return;
        }

        var principal = PrincipalMapper.Map(check.Token, out var failure);
        if (principal is null || principal.Kind != Policy.Engine.PrincipalKind.User)
        {
            context.Fail(principal is null ? "ID token names no person: " + failure : "ID token names a workload, not a person");
            return;
        }

        // A provider that puts no sid in its ID tokens still gets sessions that a sign-out can end everywhere: the gateway
        // names the session itself, so the sign-out's revoke-session record covers every copy of this cookie.
        if (principal.SessionId is null)
        {
            principal = principal with { SessionId = GatewaySessionPrefix + Guid.NewGuid().ToString("N") };
        }

        var now = time.GetUtcNow();
        var session = new BrowserSession
        {
            Segment = signIn.Segment,
            IssuerName = signIn.Context.Issuer.Name,
            Principal = principal,
            Created = now,
            Expires = now + settings.SessionLifetime,
            SteppedUpAt = context.Properties?.Items.ContainsKey(BrowserSignIn.StepUpItem) == true ? now : null,
        };
        if (signIn.Protector.Seal(session).Length > SessionProtector.MaxSealedLength)
        {
            context.Fail("the session would not fit in a cookie (too many groups or roles)");
            return;
        }

        context.HttpContext.Items[BrowserSignIn.PendingSessionKey] = session;
    }

    /// <summary>
    /// The person an ID token names once the handler verified it (its <c>sub</c> and <c>preferred_username</c>), and
    /// whether the sign-in was a step-up (null when its properties were not read).
    /// </summary>
    private sealed record SignInAttempt(string Subject, string? UserName, bool? StepUp);

    private static partial class Log
    {
        [LoggerMessage(EventId = 1401, Level = LogLevel.Information, Message = "Segment {Segment}: {Subject} signed in at {Issuer} (step-up: {StepUp})")]
        public static partial void SignedIn(ILogger logger, string segment, string subject, string issuer, bool stepUp);

        [LoggerMessage(EventId = 1402, Level = LogLevel.Warning, Message = "Segment {Segment}: a sign-in callback was refused: {Failure}")]
        public static partial void CallbackFailed(ILogger logger, string segment, string failure);
    }
}
