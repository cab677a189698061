using Yarp.ReverseProxy.Forwarder;
using ZtGateway.Policy.Engine;

namespace ZtGateway.Enforcement;

/// <summary>
/// After the forwarder: when YARP could not get an answer from the upstream (dead, no healthy destination,
/// timeout) and nothing has been sent yet, answers problem+json with an upstream reason instead of YARP's
/// bare status. Called by the enforcement stage once the rest of the pipeline has run, so it costs no
/// middleware layer of its own.
/// </summary>
internal static class UpstreamErrors
{
    public static Task AnswerIfFailedAsync(HttpContext context, DecisionFeature decision)
    {
        var error = context.GetForwarderErrorFeature();
        if (error is null || error.Error == ForwarderError.None || context.Response.HasStarted)
        {
            return Task.CompletedTask;
        }

        var (reason, status) = Classify(error.Error);

        context.Response.Headers.Clear();
        return DenialWriter.WriteAsync(context, decision.Decision.DestinationSegment, reason, decision.DecisionId, decision.TraceId, status: status);
    }

    /// <summary>
    /// The one mapping from a forwarder outcome to the reason and status the caller sees and the audit records:
    /// a timeout is 504 <c>upstream-timeout</c>, no healthy destination 503 and any other failure 502
    /// <c>upstream-unavailable</c>; <see cref="ForwarderError.None"/> is <c>allowed</c> with the upstream's own status.
    /// </summary>
    public static (ReasonCode Reason, int Status) Classify(ForwarderError error, int upstreamStatus = StatusCodes.Status200OK) => error switch
    {
        ForwarderError.None => (ReasonCode.Allowed, upstreamStatus),
        ForwarderError.RequestTimedOut => (ReasonCode.UpstreamTimeout, StatusCodes.Status504GatewayTimeout),
        ForwarderError.NoAvailableDestinations => (ReasonCode.UpstreamUnavailable, StatusCodes.Status503ServiceUnavailable),
        _ => (ReasonCode.UpstreamUnavailable, StatusCodes.Status502BadGateway),
    };
}
