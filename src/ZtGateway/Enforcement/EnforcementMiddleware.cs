using System.Diagnostics;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.AspNetCore.Http.Features;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;
using ZtGateway.Audit;
using ZtGateway.Enforcement.Exchanges;
using ZtGateway.Enforcement.Model;
using ZtGateway.Enforcement.SignIn;
using ZtGateway.Policy.Engine;
using ZtGateway.Sources.Continuous;
using ZtGateway.Sources.Detection;
using ZtGateway.Sources.Device;
using ZtGateway.Sources.Identity;
using ZtGateway.Sources.Identity.Sessions;
using ZtGateway.Telemetry;
using ZtGateway.Transport;

namespace ZtGateway.Enforcement;

/// <summary>
/// The Policy Enforcement Point of one segment listener. Runs first in the YARP pipeline: strips headers a
/// caller may not set, verifies the token and the device assertion, asks the engine, audits, and either
/// answers the refusal or points YARP at the decided service's cluster with a fresh gateway assertion.
/// Nothing reaches an upstream without passing here.
/// </summary>
internal sealed partial class EnforcementMiddleware
{
    private readonly RequestDelegate _next;
    private readonly string _segment;
    private readonly GatewayStateHolder _state;
    private readonly IProxyStateLookup _proxyState;
    private readonly TimeProvider _time;
    private readonly ILogger<EnforcementMiddleware> _logger;
    private readonly GatewayTelemetry _telemetry;
    private readonly ContinuousEvaluation _continuous;
    private readonly LateralMovementDetector _detector;
    private readonly ExchangeRegistry _exchanges;
    private readonly BrowserSignIn? _signIn;
    private readonly ListenerTransport? _transport;

    public EnforcementMiddleware(RequestDelegate next, SegmentIdentity segment, GatewayStateHolder state,
        IProxyStateLookup proxyState, TimeProvider timeProvider, ILogger<EnforcementMiddleware> logger, GatewayTelemetry telemetry,
        ContinuousEvaluation continuous, LateralMovementDetector detector, ExchangeRegistry exchanges, BrowserSignIn? signIn = null,
        ListenerTransport? transport = null)
    {
        _signIn = signIn;
        _transport = transport;
        ArgumentNullException.ThrowIfNull(next);
        ArgumentNullException.ThrowIfNull(segment);
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(proxyState);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentNullException.ThrowIfNull(telemetry);
        _next = next;
        _segment = segment.Name;
        _state = state;
        _proxyState = proxyState;
        _time = timeProvider;
        _logger = logger;
        ArgumentNullException.ThrowIfNull(continuous);
        ArgumentNullException.ThrowIfNull(detector);
        _telemetry = telemetry;
        _continuous = continuous;
        _detector = detector;
        ArgumentNullException.ThrowIfNull(exchanges);
        _exchanges = exchanges;
    }

    public async Task InvokeAsync(HttpContext context)
    {
        var state = _state.Current;
        var decisionId = DecisionIds.Next(_time.GetUtcNow());
        var started = _time.GetTimestamp();

        // The span covers token, device and policy; it ends before forwarding. Its trace is the request's trace.
        using var decisionSpan = GatewayTelemetry.StartDecision();
        var (traceId, spanId, traceCarried) = TraceOf(context.Request);
        try
        {
            await DecideAsync(context, state, decisionId, started, decisionSpan, traceId, spanId, traceCarried);
        }
        catch (Exception ex) when (IsUnexpected(ex, context))
        {
            // Last resort: whatever failed before the decision was forwarded, the caller gets a clear 503 and the
            // audit trail a line; nothing is forwarded.
            Log.Unexpected(_logger, decisionId, _segment, ex);
            var request = context.Request;
            var failed = new PendingAudit(state.Audit, _time, decisionId, traceId, spanId, InternalError(), new RequestContext
            {
                Segment = _segment,
                Method = request.Method,
                Path = request.Path.Value ?? string.Empty,
                ClientAddress = context.Connection.RemoteIpAddress,
            }, state.Policy.Version);
            await AnswerInternalErrorAsync(context, failed, decisionId, traceId);
        }
    }

    private async Task DecideAsync(HttpContext context, GatewayState state, string decisionId, long started, Activity? decisionSpan,
        string traceId, string spanId, bool traceCarried)
    {
        var policy = state.Policy;
        var request = context.Request;
        var deviceHeader = InboundHeaders.StripUntrusted(request.Headers, policy.Gateway.Device.Header);
        var authorization = request.Headers.Authorization;
        var clientAddress = ClientAddressResolver.Resolve(context.Connection.RemoteIpAddress,
            request.Headers["X-Forwarded-For"].ToString(), policy.Gateway.Gateway.TrustedProxies);
        if (state.Refusals.IsLimited(clientAddress))
        {
            // The source used up its refusals (gateway.limits): answered before any credential is verified.
            var limitedId = state.Refusals.RecordLimited(context, _segment, clientAddress);
            _telemetry.RateLimited(decisionSpan, _segment, limitedId);
            await state.Refusals.AnswerAsync(context, _segment, limitedId, traceId);
            return;
        }

        var recent = ConnectionCredentials.Of(context);

        // A browser's session cookie stands in for a bearer token on a signIn listener; a bearer token always wins.
        var session = _signIn is not null && authorization.Count == 0 ? _signIn.ReadSession(request) : null;
        var token = session is not null
            ? session.Outcome
            : await state.Tokens.ValidateAsync(authorization.Count == 1 ? authorization[0] : null, recent?.Token, context.RequestAborted);
        if (authorization.Count > 1)
        {
            // Two Authorization headers: which one the upstream believes is anyone's guess.
            token = token with { Status = TokenStatus.Invalid, Principal = null, Detail = "more than one Authorization header" };
        }

        // The verified client certificate: a workload's credential, and the one a certificate-bound token must come with;
        // on a listener that also takes device certificates, only one of tls.clientCA is either, and one of the device CA names a device.
        var listenerTls = policy.Segments.TryGetValue(_segment, out var served) ? served.Tls : null;
        var certificate = listenerTls is { ClientCertificates: not Policy.Configuration.ClientCertificateRequirement.None } ? context.Connection.ClientCertificate : null;
        var anchors = certificate is not null && _transport is { NamesDevices: true } transport
            ? transport.AnchorsOf(context.Features.Get<ISslStreamFeature>()?.SslStream)
            : new CertificateAnchors(ClientCa: true, DeviceCa: false);
        token = WorkloadCertificates.Resolve(token, anchors.ClientCa ? certificate : null, policy.Gateway.Identity.WorkloadCertificates);

        var posture = deviceHeader.Count switch
        {
            0 => PostureOutcome.Absent,
            1 => await state.Posture.VerifyAsync(deviceHeader[0], token.Principal, recent?.Posture, context.RequestAborted),
            _ => PostureOutcome.Invalid("more than one device assertion"),
        };

        if (anchors.DeviceCa && policy.Gateway.Device.Certificates is { } deviceCertificates)
        {
            var (deviceId, problem) = DeviceCertificates.Name(certificate!, deviceCertificates.IdFrom);
            posture = deviceId is null
                ? PostureOutcome.Invalid(problem!)
                : await DeviceCertificates.PostureAsync(deviceId, posture, _continuous.Postures, state.Posture, token.Principal, recent?.Posture,
                    _time.GetUtcNow(), context.RequestAborted);
        }

        var continuous = _continuous.Check(token.Principal, posture.Device);
        var requestContext = new RequestContext
        {
            Segment = _segment,
            Method = request.Method,
            Path = request.Path.Value ?? string.Empty,
            RawTarget = context.Features.Get<IHttpRequestFeature>()?.RawTarget,
            ClientAddress = clientAddress,
            Token = continuous.Revoked ? TokenStatus.Revoked : token.Status,
            Principal = token.Principal,
            DeviceStatus = posture.Status,
            Device = posture.Device,
            PrincipalQuarantined = continuous.PrincipalQuarantined,
            DeviceQuarantined = continuous.DeviceQuarantined,
            StepUpRequired = continuous.StepUpRequired,
            Binding = token.Binding,
        };

        var decision = state.Engine.Decide(requestContext);
        _telemetry.Decided(decisionSpan, decision, decisionId, _time.GetElapsedTime(started));
        decisionSpan?.Stop();
        _detector.Observe(decision, requestContext, decisionId, traceId);
        var audit = new PendingAudit(state.Audit, _time, decisionId, traceId, spanId, decision, requestContext, policy.Version);
        if (!decision.Allowed)
        {
            var code = decision.Reason.ToCode();
            Log.Denied(_logger, decisionId, _segment, code, decision.RouteId, token.Detail, posture.Detail);
            state.Refusals.Refused(clientAddress);
            if (_signIn is not null)
            {
                await AnswerBrowserAsync(context, decision, session, audit, decisionId, traceId, token);
                return;
            }

            audit.Record(ReasonStatus.For(decision.Reason), decision.Reason);
            await DenialWriter.WriteAsync(context, _segment, decision.Reason, decisionId, traceId, decision.AcrValues, decision.MaxAuthAge,
                boundToAnotherCertificate: token.BoundToAnotherCertificate);
            return;
        }

        var service = policy.Segments[_segment].Services[decision.Service!];
        if (!_proxyState.TryGetCluster(ClusterIds.For(service.Name), out var cluster))
        {
            // The policy allowed a service whose cluster is not loaded: refuse rather than guess.
            Log.ClusterMissing(_logger, service.Name, _segment);
            audit.Record(StatusCodes.Status503ServiceUnavailable, ReasonCode.UpstreamUnavailable);
            await DenialWriter.WriteAsync(context, _segment, ReasonCode.UpstreamUnavailable, decisionId, traceId);
            return;
        }

        // Open while it is forwarded: ended if the same decision taken again would refuse it (Exchanges/README.md).
        using var exchange = _exchanges.Open(context, requestContext, decision, token.Expires, posture.Expires, decisionId, traceId,
            policy.Version, posture.PushedAssertion);
        try
        {
            await ForwardAsync(context, state, decision, token.Principal!, posture.Device, service, cluster, audit, decisionId, traceId, spanId,
                traceCarried);
        }
        catch (Exception ex) when (IsUnexpected(ex, context))
        {
            // Audited here, with this decision, before the outcome of the forward would be.
            Log.Unexpected(_logger, decisionId, _segment, ex);
            await AnswerInternalErrorAsync(context, audit, decisionId, traceId);
        }
        finally
        {
            audit.RecordOutcome(context);
        }
    }

    private async Task ForwardAsync(HttpContext context, GatewayState state, Decision decision, Principal principal, DevicePosture? device,
        Policy.Configuration.ServiceConfig service, ClusterState cluster, PendingAudit audit, string decisionId, string traceId, string spanId,
        bool traceCarried)
    {
        // Authorization is taken off the outgoing request (OutboundHeaders), unless the service sets passAuthorization.
        var request = context.Request;
        request.Headers.Remove("X-Forwarded-For");
        if (!traceCarried)
        {
            // Nothing records spans and the caller started no trace: the upstream still joins the decision's trace.
            request.Headers.TraceParent = TraceParent(traceId, spanId);
        }

        request.Headers[state.Assertions.Settings.Header] = state.Assertions.Issue(decision, principal, device, decisionId);
        var decided = new DecisionFeature { DecisionId = decisionId, TraceId = traceId, Decision = decision, ForwardAuthorization = service.PassAuthorization };
        context.Features.Set(decided);
        context.ReassignProxyRequest(cluster);

        // The line is written as the response starts, so a response that was sent is always audited; the
        // caller's finally covers requests whose response never started (client gone, forwarder failure).
        context.Response.OnStarting(static s =>
        {
            var (pending, http) = ((PendingAudit, HttpContext))s;
            pending.RecordOutcome(http);
            return Task.CompletedTask;
        }, (audit, context));
        await _next(context);
        await UpstreamErrors.AnswerIfFailedAsync(context, decided);
    }

    // On a signIn listener: a refusal a sign-in can cure sends a browser to the provider (audited with its 302); a
    // session that is no longer good is deleted; the rest is the refusal, as a page for a browser.
    private async Task AnswerBrowserAsync(HttpContext context, Decision decision, SessionRead? session, PendingAudit audit, string decisionId,
        string traceId, TokenValidationOutcome token)
    {
        var answer = _signIn!.Answer(context.Request, decision.Reason, session);
        if (session is not null && (decision.Reason is ReasonCode.TokenInvalid or ReasonCode.TokenExpired or ReasonCode.TokenRevoked))
        {
            _signIn!.DeleteSession(context);
        }

        if (answer != BrowserAnswer.None)
        {
            try
            {
                // The handler only sets the redirect; the line is written before the response starts.
                await BrowserSignIn.ChallengeAsync(context, answer, decision);
                audit.Record(context.Response.StatusCode, decision.Reason);
                return;
            }
            catch (Exception ex) when (IsUnexpected(ex, context) && !context.Response.HasStarted)
            {
                // The provider's metadata cannot be had: the refusal stands, as a 503 page rather than a redirect to nowhere.
                Log.SignInUnavailable(_logger, decisionId, _segment, ex.Message);
                context.Response.Clear();
                audit.Record(StatusCodes.Status503ServiceUnavailable, decision.Reason);
                await DenialWriter.WriteAsync(context, _segment, decision.Reason, decisionId, traceId, decision.AcrValues, decision.MaxAuthAge,
                    status: StatusCodes.Status503ServiceUnavailable);
                return;
            }
        }

        audit.Record(ReasonStatus.For(decision.Reason), decision.Reason);
        await DenialWriter.WriteAsync(context, _segment, decision.Reason, decisionId, traceId, decision.AcrValues, decision.MaxAuthAge,
            boundToAnotherCertificate: token.BoundToAnotherCertificate, signInLink: BrowserSignIn.SignInLink(context.Request));
    }

    // A client that went away cancels its request: that is not a failure of ours, and there is no one to answer.
    private static bool IsUnexpected(Exception exception, HttpContext context) =>
        !(exception is OperationCanceledException && context.RequestAborted.IsCancellationRequested);

    private Decision InternalError() => new() { Allowed = false, Reason = ReasonCode.InternalError, DestinationSegment = _segment };

    private async Task AnswerInternalErrorAsync(HttpContext context, PendingAudit audit, string decisionId, string traceId)
    {
        if (context.Response.HasStarted)
        {
            // Part of an answer is out: record what happened and cut the connection, so the caller never takes a
            // truncated body for a whole one.
            audit.Record(context.Response.StatusCode, ReasonCode.InternalError);
            context.Abort();
            return;
        }

        audit.Record(ReasonStatus.For(ReasonCode.InternalError), ReasonCode.InternalError);
        context.Response.Clear();
        try
        {
            await DenialWriter.WriteAsync(context, _segment, ReasonCode.InternalError, decisionId, traceId);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or InvalidOperationException)
        {
            // The answer itself could not be written (connection gone): the audit line is already out.
            context.Abort();
        }
    }

    // The request's trace: its span's when traces are recorded, else the caller's traceparent, else a new one; and the
    // gateway's span in it: the decision span, else the caller's parent id, else a new id that the upstream gets as its
    // parent. Carried is true when that trace already reaches the upstream (the span's context, or the caller's header).
    private static (string TraceId, string SpanId, bool Carried) TraceOf(HttpRequest request)
    {
        if (Activity.Current is { } current)
        {
            return (current.TraceId.ToHexString(), current.SpanId.ToHexString(), true);
        }

        var traceparent = request.Headers.TraceParent;
        return traceparent.Count == 1 && ActivityContext.TryParse(traceparent[0], null, out var caller)
            ? (caller.TraceId.ToHexString(), caller.SpanId.ToHexString(), true)
            : (ActivityTraceId.CreateRandom().ToHexString(), ActivitySpanId.CreateRandom().ToHexString(), false);
    }

    // A W3C traceparent in the decision's trace with the given parent id, built as one string.
    private static string TraceParent(string traceId, string parentId) =>
        string.Create(55, (TraceId: traceId, Parent: parentId), static (chars, state) =>
        {
            "00-".CopyTo(chars);
            state.TraceId.CopyTo(chars[3..]);
            chars[35] = '-';
            state.Parent.CopyTo(chars[36..]);
            "-00".CopyTo(chars[52..]);
        });

    /// <summary>One decision's audit line, written exactly once.</summary>
    private sealed class PendingAudit(AuditTrail trail, TimeProvider time, string decisionId, string traceId, string spanId, Decision decision,
        RequestContext request, string policyVersion)
    {
        private int _written;

        public void RecordOutcome(HttpContext context)
        {
            var (reason, status) = UpstreamErrors.Classify(context.GetForwarderErrorFeature()?.Error ?? ForwarderError.None,
                context.Response.StatusCode);
            Record(status, reason);
        }

        public void Record(int status, ReasonCode reason)
        {
            if (Interlocked.Exchange(ref _written, 1) != 0)
            {
                return;
            }

            trail.Record(new AuditEvent
            {
                Time = time.GetUtcNow(),
                DecisionId = decisionId,
                TraceId = traceId,
                SpanId = spanId,
                Decision = decision,
                Reason = reason,
                Method = request.Method,
                Path = request.Path,
                StatusCode = status,
                ClientAddress = request.ClientAddress,
                Principal = request.Principal,
                Device = request.Device,
                PolicyVersion = policyVersion,
            });
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1001, Level = LogLevel.Debug,
            Message = "Denied {DecisionId} on segment {Segment}: {Reason} (route {Route}; token: {TokenDetail}; device: {DeviceDetail})")]
        public static partial void Denied(ILogger logger, string decisionId, string segment, string reason, string? route, string tokenDetail, string deviceDetail);

        [LoggerMessage(EventId = 1002, Level = LogLevel.Error,
            Message = "No cluster is loaded for service {Service} of segment {Segment}; refusing")]
        public static partial void ClusterMissing(ILogger logger, string service, string segment);

        [LoggerMessage(EventId = 1004, Level = LogLevel.Warning,
            Message = "Refused {DecisionId} on segment {Segment} could not be sent to sign in ({Reason}); answered 503")]
        public static partial void SignInUnavailable(ILogger logger, string decisionId, string segment, string reason);

        [LoggerMessage(EventId = 1003, Level = LogLevel.Error,
            Message = "Unexpected failure deciding {DecisionId} on segment {Segment}; answered 503 internal-error, nothing forwarded")]
        public static partial void Unexpected(ILogger logger, string decisionId, string segment, Exception exception);
    }
}

/// <summary>The segment a listener serves, registered in that listener's container.</summary>
internal sealed record SegmentIdentity(string Name);

/// <summary>YARP cluster ids derived from service names.</summary>
internal static class ClusterIds
{
    /// <summary>The placeholder cluster of the catch-all route; it has no destinations, so nothing is forwarded to it.</summary>
    public const string Unrouted = "ztgw-unrouted";

    public static string For(string service) => "svc-" + service;
}
