using System.Net.Sockets;
using Microsoft.AspNetCore.Http.Features;
using Polly;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;
using ZtGateway.Telemetry;

namespace ZtGateway.Enforcement.Resilience;

/// <summary>
/// Runs between YARP's load balancing and the forwarder. Each attempt goes through the destination's circuit
/// breaker; a destination whose circuit is open is skipped before anything is sent. When a connection cannot
/// be made, an idempotent request without a body (GET, HEAD, OPTIONS) is sent to another healthy destination;
/// any other request is never sent twice. When no destination could be reached the forwarder error becomes
/// <see cref="ForwarderError.NoAvailableDestinations"/>, which is answered 503 <c>upstream-unavailable</c>.
/// </summary>
internal sealed partial class UpstreamResilienceMiddleware
{
    private readonly RequestDelegate _next;
    private readonly UpstreamResilience _resilience;
    private readonly GatewayTelemetry _telemetry;
    private readonly ILogger<UpstreamResilienceMiddleware> _logger;

    public UpstreamResilienceMiddleware(RequestDelegate next, UpstreamResilience resilience, GatewayTelemetry telemetry,
        ILogger<UpstreamResilienceMiddleware> logger)
    {
        ArgumentNullException.ThrowIfNull(next);
        ArgumentNullException.ThrowIfNull(resilience);
        ArgumentNullException.ThrowIfNull(telemetry);
        ArgumentNullException.ThrowIfNull(logger);
        _next = next;
        _resilience = resilience;
        _telemetry = telemetry;
        _logger = logger;
    }

    public Task InvokeAsync(HttpContext context)
    {
        var proxy = context.GetReverseProxyFeature();
        var decision = context.Features.Get<DecisionFeature>();
        if (decision is null)
        {
            return _next(context);
        }

        return proxy.AvailableDestinations.Count == 0 ? NoHealthyDestinationAsync(context, decision)
            : proxy.AllDestinations.Count == 1 ? ForwardToTheOnlyDestinationAsync(context, proxy, decision)
            : ForwardAsync(context, proxy, decision);
    }

    // A retry only ever goes to another destination: with one, the request makes one attempt and no retry pipeline runs.
    private async Task ForwardToTheOnlyDestinationAsync(HttpContext context, Yarp.ReverseProxy.Model.IReverseProxyFeature proxy, DecisionFeature decision)
    {
        var segment = decision.Decision.DestinationSegment;
        var service = decision.Decision.Service ?? string.Empty;
        var destination = proxy.AvailableDestinations[0];
        proxy.AvailableDestinations = destination;
        AttemptKind kind;
        try
        {
            kind = await AttemptAsync(context, destination, segment, service);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Failed(context, segment, service, ex);
            return;
        }

        Unreached(context, kind, anotherCandidate: false, segment, service, attempts: 1);
    }

    // One attempt at one destination, through its circuit; a failure is counted in ztgw.upstream.failures.
    private async ValueTask<AttemptKind> AttemptAsync(HttpContext context, DestinationState destination, string segment, string service)
    {
        var breaker = _resilience.BreakerFor(destination);
        AttemptKind kind;
        if (!breaker.TryEnter(out var trial))
        {
            kind = AttemptKind.CircuitOpen;
        }
        else
        {
            // Whatever happens, the breaker hears of it: a throw counts as answered, as it did not fail to reach the destination.
            kind = AttemptKind.Answered;
            try
            {
                await _next(context);
                kind = Classify(context);
            }
            finally
            {
                breaker.Exit(kind, trial);
            }
        }

        if (kind != AttemptKind.Answered)
        {
            _telemetry.UpstreamFailed(segment, service, new UpstreamAttempt(kind, false).ErrorTag);
        }

        return kind;
    }

    /// <summary>Turns "no destination could be reached" into the forwarder error that is answered 503.</summary>
    private void Unreached(HttpContext context, AttemptKind last, bool anotherCandidate, string segment, string service, int attempts)
    {
        if (last is not (AttemptKind.ConnectFailed or AttemptKind.CircuitOpen) || context.Response.HasStarted)
        {
            return;
        }

        if (last == AttemptKind.ConnectFailed && anotherCandidate)
        {
            // A request that may not be sent twice failed on one destination while others remain: 502.
            return;
        }

        var previous = context.GetForwarderErrorFeature()?.Exception;
        context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        context.Features.Set<IForwarderErrorFeature>(new NoDestinationReached(previous));
        Log.NoDestinationReached(_logger, service, segment, attempts);
    }

    // Every destination is marked unhealthy: the forwarder answers no-available-destinations itself.
    private async Task NoHealthyDestinationAsync(HttpContext context, DecisionFeature decision)
    {
        var segment = decision.Decision.DestinationSegment;
        var service = decision.Decision.Service ?? string.Empty;
        try
        {
            await _next(context);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Failed(context, segment, service, ex);
            return;
        }

        _telemetry.UpstreamFailed(segment, service, "no-destination");
    }

    // Something in the forwarding pipeline threw: the request is answered 502, never 500 and never as a success.
    private void Failed(HttpContext context, string segment, string service, Exception exception)
    {
        _telemetry.UpstreamFailed(segment, service, "other");
        Log.ForwardingFailed(_logger, service, segment, exception);
        if (context.Response.HasStarted)
        {
            return;
        }

        context.Response.StatusCode = StatusCodes.Status502BadGateway;
        context.Features.Set<IForwarderErrorFeature>(new ForwardingFailed(exception));
    }

    private async Task ForwardAsync(HttpContext context, Yarp.ReverseProxy.Model.IReverseProxyFeature proxy, DecisionFeature decision)
    {
        var request = new Attempts(this, context, proxy, decision.Decision.DestinationSegment, decision.Decision.Service ?? string.Empty);
        var resilienceContext = ResilienceContextPool.Shared.Get(context.RequestAborted);
        try
        {
            Outcome<UpstreamAttempt> outcome;
            try
            {
                outcome = await _resilience.Retry.ExecuteOutcomeAsync(static (rc, attempts) => attempts.NextAsync(rc), resilienceContext, request);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                outcome = Outcome.FromException<UpstreamAttempt>(ex);
            }

            // Polly hands an exception back inside the outcome: it is a failed attempt, never an answered one.
            if (outcome.Exception is { } failure and not OperationCanceledException)
            {
                request.Fail(failure);
                return;
            }

            outcome.ThrowIfException();
            request.Finish(outcome.Result);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(resilienceContext);
        }
    }

    // RFC 9110 idempotent methods that carry no body: sending one twice is harmless and needs no buffering.
    private static bool MaySendTwice(HttpContext context)
    {
        var method = context.Request.Method;
        var safe = HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method);
        return safe && context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody == false;
    }

    private static AttemptKind Classify(HttpContext context)
    {
        var error = context.GetForwarderErrorFeature();
        return error?.Error switch
        {
            null or ForwarderError.None => AttemptKind.Answered,
            ForwarderError.Request when IsConnectFailure(error.Exception) => AttemptKind.ConnectFailed,
            ForwarderError.RequestTimedOut => AttemptKind.TimedOut,
            _ => AttemptKind.Failed,
        };
    }

    private static bool IsConnectFailure(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError }
                || e is SocketException { SocketErrorCode: SocketError.ConnectionRefused or SocketError.HostUnreachable or SocketError.NetworkUnreachable or SocketError.HostNotFound })
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsHealthy(DestinationState destination) =>
        destination.Health.Active != DestinationHealth.Unhealthy && destination.Health.Passive != DestinationHealth.Unhealthy;

    /// <summary>The attempts of one request, in the order they were made.</summary>
    private sealed class Attempts(UpstreamResilienceMiddleware owner, HttpContext context, Yarp.ReverseProxy.Model.IReverseProxyFeature proxy,
        string segment, string service)
    {
        private readonly List<DestinationState> _tried = new(2);
        private readonly DestinationState _first = proxy.AvailableDestinations[0];
        private readonly bool _maySendTwice = MaySendTwice(context);

        public async ValueTask<Outcome<UpstreamAttempt>> NextAsync(ResilienceContext resilienceContext)
        {
            var destination = _tried.Count == 0 ? _first : NextCandidate();
            if (destination is null)
            {
                // Every destination was tried or is out; the last failure stands.
                return Outcome.FromResult(new UpstreamAttempt(AttemptKind.CircuitOpen, MayTryAnother: false));
            }

            if (_tried.Count > 0)
            {
                Reset();
                owner._telemetry.UpstreamRetried(segment, service);
                Log.TryingAnother(owner._logger, service, _tried[^1].DestinationId, destination.DestinationId);
            }

            _tried.Add(destination);
            proxy.AvailableDestinations = destination;
            var kind = await owner.AttemptAsync(context, destination, segment, service);

            // Nothing was sent to an open circuit, so any request may go elsewhere; after a refused connection only
            // a request that may be sent twice does.
            var mayTryAnother = (kind == AttemptKind.CircuitOpen || (kind == AttemptKind.ConnectFailed && _maySendTwice))
                && NextCandidate() is not null;
            return Outcome.FromResult(new UpstreamAttempt(kind, mayTryAnother));
        }

        /// <summary>Turns "no destination could be reached" into the forwarder error that is answered 503.</summary>
        public void Finish(UpstreamAttempt last) =>
            owner.Unreached(context, last.Kind, last.Kind == AttemptKind.ConnectFailed && NextCandidate() is not null, segment, service, _tried.Count);

        /// <summary>Something in the forwarding pipeline threw: answered 502 upstream-unavailable.</summary>
        public void Fail(Exception exception) => owner.Failed(context, segment, service, exception);

        private DestinationState? NextCandidate()
        {
            DestinationState? best = null;
            foreach (var destination in proxy.AllDestinations)
            {
                if (_tried.Contains(destination) || !IsHealthy(destination) || !owner._resilience.BreakerFor(destination).Admits)
                {
                    continue;
                }

                if (best is null || destination.ConcurrentRequestCount < best.ConcurrentRequestCount)
                {
                    best = destination;
                }
            }

            return best;
        }

        // The failed attempt left only a status code and its error; the next attempt starts clean.
        private void Reset()
        {
            context.Response.Headers.Clear();
            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Features.Set<IForwarderErrorFeature>(null);
        }
    }

    private sealed class NoDestinationReached(Exception? exception) : IForwarderErrorFeature
    {
        public ForwarderError Error => ForwarderError.NoAvailableDestinations;

        public Exception? Exception => exception;
    }

    private sealed class ForwardingFailed(Exception exception) : IForwarderErrorFeature
    {
        public ForwarderError Error => ForwarderError.Request;

        public Exception? Exception => exception;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1103, Level = LogLevel.Error,
            Message = "Service {Service} of segment {Segment}: forwarding failed; answering 502")]
        public static partial void ForwardingFailed(ILogger logger, string service, string segment, Exception exception);

        [LoggerMessage(EventId = 1101, Level = LogLevel.Warning,
            Message = "Service {Service}: destination {Failed} could not be reached; trying {Next}")]
        public static partial void TryingAnother(ILogger logger, string service, string failed, string next);

        [LoggerMessage(EventId = 1102, Level = LogLevel.Warning,
            Message = "Service {Service} of segment {Segment}: no destination could be reached after {Attempts} attempt(s)")]
        public static partial void NoDestinationReached(ILogger logger, string service, string segment, int attempts);
    }
}
