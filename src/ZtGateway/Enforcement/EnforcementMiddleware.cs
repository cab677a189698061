using System.Diagnostics;
using Yarp.ReverseProxy.Model;
using ZtGateway.Hosting;
using ZtGateway.Policy.Engine;

namespace ZtGateway.Enforcement;

/// <summary>
/// The Policy Enforcement Point of one segment listener. Runs first in the YARP pipeline: strips headers a
/// caller may not set, verifies credentials, asks the engine, and either answers the refusal or points YARP
/// at the decided service's cluster. Nothing reaches an upstream without passing here.
/// </summary>
internal sealed partial class EnforcementMiddleware
{
    private readonly RequestDelegate _next;
    private readonly string _segment;
    private readonly GatewayStateHolder _state;
    private readonly IProxyStateLookup _proxyState;
    private readonly ILogger<EnforcementMiddleware> _logger;

    public EnforcementMiddleware(RequestDelegate next, SegmentIdentity segment, GatewayStateHolder state,
        IProxyStateLookup proxyState, ILogger<EnforcementMiddleware> logger)
    {
        ArgumentNullException.ThrowIfNull(next);
        ArgumentNullException.ThrowIfNull(segment);
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(proxyState);
        ArgumentNullException.ThrowIfNull(logger);
        _next = next;
        _segment = segment.Name;
        _state = state;
        _proxyState = proxyState;
        _logger = logger;
    }

    public async Task InvokeAsync(HttpContext context)
    {
        var state = _state.Current;
        var policy = state.Policy;
        var request = context.Request;
        var decisionId = Guid.CreateVersion7().ToString();
        var traceId = Activity.Current?.TraceId.ToHexString() ?? ActivityTraceId.CreateRandom().ToHexString();

        InboundHeaders.StripUntrusted(request.Headers, policy.Gateway.Device.Header);
        var authorization = request.Headers.Authorization;

        var token = await state.Tokens.ValidateAsync(authorization.Count == 1 ? authorization[0] : null, context.RequestAborted);
        if (authorization.Count > 1)
        {
            // Two Authorization headers: which one the upstream believes is anyone's guess.
            token = token with { Status = TokenStatus.Invalid, Principal = null, Detail = "more than one Authorization header" };
        }

        var requestContext = new RequestContext
        {
            Segment = _segment,
            Method = request.Method,
            Path = request.Path.Value ?? string.Empty,
            ClientAddress = ClientAddressResolver.Resolve(context.Connection.RemoteIpAddress,
                request.Headers["X-Forwarded-For"].ToString(), policy.Gateway.Gateway.TrustedProxies),
            Token = token.Status,
            Principal = token.Principal,
            // Device-posture verification is not wired yet: no device is ever believed (fail closed).
            DeviceStatus = DeviceStatus.Absent,
        };

        var decision = state.Engine.Decide(requestContext);
        if (!decision.Allowed)
        {
            Log.Denied(_logger, decisionId, _segment, decision.Reason.ToCode(), decision.RouteId, token.Detail);
            await DenialWriter.WriteAsync(context, _segment, decision.Reason, decisionId, traceId, decision.AcrValues, decision.MaxAuthAge);
            return;
        }

        var service = policy.Segments[_segment].Services[decision.Service!];
        if (!_proxyState.TryGetCluster(ClusterIds.For(service.Name), out var cluster))
        {
            // The policy allowed a service whose cluster is not loaded yet: refuse rather than guess.
            Log.ClusterMissing(_logger, service.Name, _segment);
            await DenialWriter.WriteAsync(context, _segment, ReasonCode.UpstreamUnavailable, decisionId, traceId);
            return;
        }

        if (!service.PassAuthorization)
        {
            request.Headers.Remove("Authorization");
        }

        request.Headers.Remove("X-Forwarded-For");
        context.Features.Set(new DecisionFeature { DecisionId = decisionId, TraceId = traceId, Decision = decision });
        context.ReassignProxyRequest(cluster);
        await _next(context);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1001, Level = LogLevel.Information,
            Message = "Denied {DecisionId} on segment {Segment}: {Reason} (route {Route}; token: {TokenDetail})")]
        public static partial void Denied(ILogger logger, string decisionId, string segment, string reason, string? route, string tokenDetail);

        [LoggerMessage(EventId = 1002, Level = LogLevel.Error,
            Message = "No cluster is loaded for service {Service} of segment {Segment}; refusing")]
        public static partial void ClusterMissing(ILogger logger, string service, string segment);
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
