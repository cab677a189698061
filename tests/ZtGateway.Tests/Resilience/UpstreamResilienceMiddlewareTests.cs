using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;
using ZtGateway.Enforcement;
using ZtGateway.Enforcement.Resilience;
using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Engine;
using ZtGateway.Telemetry;

namespace ZtGateway.Tests.Resilience;

public sealed class UpstreamResilienceMiddlewareTests
{
    [Theory]
    [InlineData(1)] // one destination: no retry pipeline
    [InlineData(2)] // several: through Polly's retry pipeline, which hands exceptions back inside its outcome
    [InlineData(0)] // none healthy: straight to the forwarder, which answers no-available-destinations
    public async Task ForwardingThrows_Answers502UpstreamUnavailable_NeverASuccess(int destinations)
    {
        using var telemetry = GatewayTelemetry.Create(new TelemetrySettings(), "hr", _ => null);
        var middleware = new UpstreamResilienceMiddleware(
            _ => throw new InvalidOperationException("pipeline bug"),
            new UpstreamResilience(new UpstreamResilienceOptions(), TimeProvider.System),
            telemetry,
            NullLogger<UpstreamResilienceMiddleware>.Instance);
        var context = Request(destinations, out var decided);

        await middleware.InvokeAsync(context);

        Assert.Equal(StatusCodes.Status502BadGateway, context.Response.StatusCode);
        var error = context.GetForwarderErrorFeature();
        Assert.NotNull(error);
        Assert.Equal(ForwarderError.Request, error.Error);
        Assert.IsType<InvalidOperationException>(error.Exception);

        // The enforcement stage then answers the problem+json of the design, with the upstream reason.
        await UpstreamErrors.AnswerIfFailedAsync(context, decided);
        Assert.Equal(StatusCodes.Status502BadGateway, context.Response.StatusCode);
        context.Response.Body.Position = 0;
        using var problem = await JsonDocument.ParseAsync(context.Response.Body);
        Assert.Equal("upstream-unavailable", problem.RootElement.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task ClientGone_CancellationIsNotTurnedIntoAnAnswer()
    {
        using var telemetry = GatewayTelemetry.Create(new TelemetrySettings(), "hr", _ => null);
        var middleware = new UpstreamResilienceMiddleware(
            _ => throw new OperationCanceledException(),
            new UpstreamResilience(new UpstreamResilienceOptions(), TimeProvider.System),
            telemetry,
            NullLogger<UpstreamResilienceMiddleware>.Instance);
        var context = Request(1, out _);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => middleware.InvokeAsync(context));
        Assert.Null(context.GetForwarderErrorFeature());
    }

    private static DefaultHttpContext Request(int destinations, out DecisionFeature decided)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "GET";
        context.Response.Body = new MemoryStream();
        var all = Enumerable.Range(0, Math.Max(destinations, 1)).Select(i => new DestinationState("payroll-" + i)).ToList();
        var available = destinations == 0 ? new List<DestinationState>() : all;
        context.Features.Set<IReverseProxyFeature>(new ReverseProxyFeature { AllDestinations = all, AvailableDestinations = available });
        decided = new DecisionFeature
        {
            DecisionId = "d-1",
            TraceId = "0af7651916cd43dd8448eb211c80319c",
            Decision = new Decision { Allowed = true, Reason = ReasonCode.Allowed, DestinationSegment = "hr", SourceSegment = "finance", Service = "payroll" },
        };
        context.Features.Set(decided);
        return context;
    }
}
