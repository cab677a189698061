using System.Diagnostics;
using ZtGateway.Audit;
using ZtGateway.Enforcement.Model;
using ZtGateway.Policy.Engine;
using ZtGateway.Sources.Identity.Sessions;

namespace ZtGateway.Enforcement.SignIn;

/// <summary>
/// The audit lines of the sign-in endpoints: refusals, audited like any decision, then answered as a page (or
/// problem+json); and sign-ins, refused callbacks and sign-outs, audited as OCSF Authentication lines.
/// </summary>
internal static class SignInAudit
{
    public static Task RefuseAsync(HttpContext context, GatewayStateHolder holder, TimeProvider time, string segment, ReasonCode reason,
        string? signInLink = null, Principal? principal = null)
    {
        var now = time.GetUtcNow();
        return RefuseAsync(context, holder.Current, now, DecisionIds.Next(now), RefusalTraceId(), segment, reason, signInLink, principal, authentication: null);
    }

    /// <summary>
    /// A callback that made <paramref name="session"/>: one Authentication Logon line, Success, naming the person also by
    /// <paramref name="userName"/> (the ID token's <c>preferred_username</c>) when the token has one.
    /// </summary>
    public static void SignedIn(HttpContext context, GatewayStateHolder holder, TimeProvider time, BrowserSignIn signIn, BrowserSession session,
        string? userName)
    {
        var now = time.GetUtcNow();
        var authentication = Authentication(context, now, AuthenticationKind.SignIn, signIn, Activity.Current?.TraceId.ToHexString(), session);
        holder.Current.Audit.RecordAuthentication(authentication with { UserName = userName, StepUp = session.SteppedUpAt is not null });
    }

    /// <summary>
    /// A refused callback: the refusal itself, audited (HTTP Activity, 401 <c>token-invalid</c>) and answered (a page
    /// with a sign-in link) as every refusal of these endpoints, and one Authentication Logon line, Failure, that names
    /// that decision and shares its trace; both lines are written before the answer. <paramref name="failure"/> says why
    /// in words; <paramref name="stepUp"/> is null when the sign-in's state could not be read; <paramref name="subject"/>
    /// and <paramref name="userName"/> are the <c>sub</c> and <c>preferred_username</c> of an ID token whose signature
    /// the handler verified, null when none was.
    /// </summary>
    public static Task CallbackRefusedAsync(HttpContext context, GatewayStateHolder holder, TimeProvider time, BrowserSignIn signIn, string failure,
        bool? stepUp, string? subject, string? userName)
    {
        var state = holder.Current;
        var now = time.GetUtcNow();
        var decisionId = DecisionIds.Next(now);
        var traceId = RefusalTraceId();
        var authentication = Authentication(context, now, AuthenticationKind.SignInRefused, signIn, traceId, session: null) with
        {
            Subject = subject,
            UserName = userName,
            StepUp = stepUp,
            Reason = ReasonCode.TokenInvalid.ToCode(),
            Failure = failure,
            DecisionId = decisionId,
        };
        return RefuseAsync(context, state, now, decisionId, traceId, signIn.Segment, ReasonCode.TokenInvalid, SignInPaths.SignIn, principal: null,
            authentication);
    }

    /// <summary>A sign-out that ended <paramref name="session"/>: one Authentication Logoff line.</summary>
    public static void SignedOut(HttpContext context, GatewayStateHolder holder, TimeProvider time, BrowserSignIn signIn, BrowserSession session)
    {
        var now = time.GetUtcNow();
        var authentication = Authentication(context, now, AuthenticationKind.SignOut, signIn, Activity.Current?.TraceId.ToHexString(), session);
        holder.Current.Audit.RecordAuthentication(authentication with { Reason = "sign-out" });
    }

    private static Task RefuseAsync(HttpContext context, GatewayState state, DateTimeOffset now, string decisionId, string traceId, string segment,
        ReasonCode reason, string? signInLink, Principal? principal, AuthenticationEvent? authentication)
    {
        var status = ReasonStatus.For(reason);
        state.Audit.Record(new AuditEvent
        {
            Time = now,
            DecisionId = decisionId,
            TraceId = traceId,
            SpanId = Activity.Current?.SpanId.ToHexString(),
            Decision = new Decision { Allowed = false, Reason = reason, DestinationSegment = segment },
            Reason = reason,
            Method = context.Request.Method,
            Path = context.Request.Path.Value ?? string.Empty,
            StatusCode = status,
            ClientAddress = context.Connection.RemoteIpAddress,
            Principal = principal,
            PolicyVersion = state.Policy.Version,
        });
        if (authentication is not null)
        {
            state.Audit.RecordAuthentication(authentication);
        }

        if (context.Response.HasStarted)
        {
            context.Abort();
            return Task.CompletedTask;
        }

        context.Response.Clear();
        return DenialWriter.WriteAsync(context, segment, reason, decisionId, traceId, signInLink: signInLink);
    }

    // A refusal always names a trace: the page shows it.
    private static string RefusalTraceId() => Activity.Current?.TraceId.ToHexString() ?? ActivityTraceId.CreateRandom().ToHexString();

    // The line's facts common to every kind: who asked where, and the session when there is one.
    private static AuthenticationEvent Authentication(HttpContext context, DateTimeOffset now, AuthenticationKind kind, BrowserSignIn signIn,
        string? traceId, BrowserSession? session) => new()
    {
        Id = DecisionIds.Next(now),
        Time = now,
        Kind = kind,
        Segment = signIn.Segment,
        IssuerName = signIn.Context.Issuer.Name,
        Subject = session?.Principal.Subject,
        Issuer = session?.Principal.Issuer is { Length: > 0 } issuer ? issuer : null,
        SessionId = session?.Principal.SessionId,
        SessionCreated = WholeSeconds(session?.Created),
        SessionExpires = WholeSeconds(session?.Expires),
        Amr = session?.Principal.Amr ?? [],
        TraceId = traceId,
        SpanId = Activity.Current?.SpanId.ToHexString(),
        ClientAddress = context.Connection.RemoteIpAddress,
        ListenerAddress = context.Connection.LocalIpAddress,
        ListenerPort = context.Connection.LocalIpAddress is null ? null : context.Connection.LocalPort,
        Method = context.Request.Method,
        Path = context.Request.Path.Value ?? string.Empty,
    };

    // A session keeps its times in whole seconds (its cookie does): a logon and the logoff of one session show the same.
    private static DateTimeOffset? WholeSeconds(DateTimeOffset? time) =>
        time is { } t ? DateTimeOffset.FromUnixTimeSeconds(t.ToUnixTimeSeconds()) : null;
}
