using Yarp.ReverseProxy.Forwarder;
using ZtGateway.Policy.Engine;

namespace ZtGateway.Enforcement;

/// <summary>
/// Runs after the forwarder: when YARP could not get an answer from the upstream (dead, no healthy
/// destination, timeout) and nothing has been sent yet, answers problem+json with an upstream reason
/// instead of YARP's bare status.
/// </summary>
internal sealed class UpstreamErrorMiddleware
{
    private readonly RequestDelegate _next;

    public UpstreamErrorMiddleware(RequestDelegate next)
    {
        ArgumentNullException.ThrowIfNull(next);
        _next = next;
    }

    public async Task InvokeAsync(HttpContext context)
    {
        await _next(context);

        var error = context.GetForwarderErrorFeature();
        if (error is null || error.Error == ForwarderError.None || context.Response.HasStarted)
        {
            return;
        }

        var decision = context.Features.Get<DecisionFeature>();
        if (decision is null)
        {
            return;
        }

        var (reason, status) = error.Error switch
        {
            ForwarderError.RequestTimedOut => (ReasonCode.UpstreamTimeout, StatusCodes.Status504GatewayTimeout),
            ForwarderError.NoAvailableDestinations => (ReasonCode.UpstreamUnavailable, StatusCodes.Status503ServiceUnavailable),
            _ => (ReasonCode.UpstreamUnavailable, StatusCodes.Status502BadGateway),
        };

        context.Response.Headers.Clear();
        await DenialWriter.WriteAsync(context, decision.Decision.DestinationSegment, reason, decision.DecisionId, decision.TraceId, status: status);
    }
}
