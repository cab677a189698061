using System.Net;

namespace ZtGateway.Audit;

/// <summary>What happened to a browser sign-in.</summary>
internal enum AuthenticationKind
{
    /// <summary>A sign-in callback made a session (Logon, Success).</summary>
    SignIn,

    /// <summary>A sign-in callback was refused (Logon, Failure): no session was made.</summary>
    SignInRefused,

    /// <summary>A person signed out (Logoff, Success): the session was ended.</summary>
    SignOut,
}

/// <summary>
/// One browser sign-in, refused sign-in callback or sign-out at a <c>signIn: true</c> listener, as the audit trail
/// records it: an OCSF Authentication (class 3002) line (docs/design.md section 6.2). Plain data: who, which session,
/// where, and why a callback was refused; never a token, cookie, code or secret.
/// </summary>
internal sealed record AuthenticationEvent
{
    /// <summary>Unique id of the line (a UUIDv7, like a decision id).</summary>
    public required string Id { get; init; }

    /// <summary>When the callback or the sign-out was handled.</summary>
    public required DateTimeOffset Time { get; init; }

    public required AuthenticationKind Kind { get; init; }

    /// <summary>The segment whose listener signs people in.</summary>
    public required string Segment { get; init; }

    /// <summary>The name of the <c>identity.issuers</c> entry sign-in uses (e.g. <c>corp</c>).</summary>
    public required string IssuerName { get; init; }

    /// <summary>
    /// The person's <c>sub</c>: of the session (sign-in, sign-out), or, for a refused callback, of an ID token whose
    /// signature the handler verified; null when a refused callback names nobody.
    /// </summary>
    public string? Subject { get; init; }

    /// <summary>The person's <c>preferred_username</c>, when the ID token has one.</summary>
    public string? UserName { get; init; }

    /// <summary>The ID token's <c>iss</c> (the issuer URL), when known.</summary>
    public string? Issuer { get; init; }

    /// <summary>The session's id: the provider's <c>sid</c>, or the gateway-made <c>ztgw:</c> id. Absent for a refused callback.</summary>
    public string? SessionId { get; init; }

    /// <summary>When the session was made.</summary>
    public DateTimeOffset? SessionCreated { get; init; }

    /// <summary>When the session ends whatever happens meanwhile.</summary>
    public DateTimeOffset? SessionExpires { get; init; }

    /// <summary>The session's <c>amr</c>; empty when the ID token had none (then whether MFA was used is not written).</summary>
    public IReadOnlyList<string> Amr { get; init; } = [];

    /// <summary>Sign-in and refused callback: whether the sign-in was a step-up asked for by a refusal; null when not known.</summary>
    public bool? StepUp { get; init; }

    /// <summary>Refused callback and sign-out: the reason code (<c>token-invalid</c>, <c>sign-out</c>).</summary>
    public string? Reason { get; init; }

    /// <summary>Refused callback: why, in words (the handler's or the gateway's failure).</summary>
    public string? Failure { get; init; }

    /// <summary>Refused callback: the decision id of its HTTP Activity line (the 401 <c>token-invalid</c> page).</summary>
    public string? DecisionId { get; init; }

    /// <summary>The W3C trace id (32 hex digits) of the request; null when the request is in no trace.</summary>
    public string? TraceId { get; init; }

    /// <summary>The gateway's span in <see cref="TraceId"/>; not in the OCSF line, an <c>otlp</c> sink puts it in its record.</summary>
    public string? SpanId { get; init; }

    /// <summary>The client's address.</summary>
    public IPAddress? ClientAddress { get; init; }

    /// <summary>The listener's own address and port the request came in on.</summary>
    public IPAddress? ListenerAddress { get; init; }

    public int? ListenerPort { get; init; }

    /// <summary>The request's method and path (the callback's, or the sign-out's); never its query.</summary>
    public required string Method { get; init; }

    public required string Path { get; init; }
}
