using System.Security.Claims;
using System.Text.Json.Serialization;
using ZtGateway.Upstream;

namespace ZtGateway.SampleService;

/// <summary>The demo upstream's endpoints: an anonymous health probe and an echo of who called.</summary>
internal static class SampleEndpoints
{
    public const string HealthPath = "/healthz";

    /// <summary>
    /// Maps <c>/healthz</c> (anonymous) and a catch-all for every method that echoes the verified caller.
    /// The catch-all carries no authorization metadata of its own: the fallback policy demands the assertion.
    /// </summary>
    public static WebApplication MapSampleEndpoints(this WebApplication app, string serviceName)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(serviceName);

        app.MapGet(HealthPath, () => Results.Text("ok")).AllowAnonymous();
        app.Map("/{**path}", (HttpContext context) => Results.Json(
            new EchoResponse(serviceName, context.Request.Method, context.Request.Path.Value ?? "/", CallerView.From(context.User)),
            SampleJsonContext.Default.EchoResponse));
        return app;
    }
}

/// <summary>What the echo endpoint answers.</summary>
internal sealed record EchoResponse(
    [property: JsonPropertyName("service")] string Service,
    [property: JsonPropertyName("method")] string Method,
    [property: JsonPropertyName("path")] string Path,
    [property: JsonPropertyName("caller")] CallerView Caller);

/// <summary>The caller as the gateway asserted it, with the assertion's claim names.</summary>
internal sealed record CallerView(
    [property: JsonPropertyName(ZtGatewayClaimTypes.Subject)] string? Subject,
    [property: JsonPropertyName(ZtGatewayClaimTypes.PrincipalType)] string? PrincipalType,
    [property: JsonPropertyName(ZtGatewayClaimTypes.SourceSegment)] string? SourceSegment,
    [property: JsonPropertyName(ZtGatewayClaimTypes.DestinationSegment)] string? DestinationSegment,
    [property: JsonPropertyName(ZtGatewayClaimTypes.Route)] string? Route,
    [property: JsonPropertyName(ZtGatewayClaimTypes.Rule)] string? Rule,
    [property: JsonPropertyName(ZtGatewayClaimTypes.DeviceId)] string? DeviceId)
{
    public static CallerView From(ClaimsPrincipal user) => new(
        user.FindFirst(ZtGatewayClaimTypes.Subject)?.Value,
        user.FindFirst(ZtGatewayClaimTypes.PrincipalType)?.Value,
        user.FindFirst(ZtGatewayClaimTypes.SourceSegment)?.Value,
        user.FindFirst(ZtGatewayClaimTypes.DestinationSegment)?.Value,
        user.FindFirst(ZtGatewayClaimTypes.Route)?.Value,
        user.FindFirst(ZtGatewayClaimTypes.Rule)?.Value,
        user.FindFirst(ZtGatewayClaimTypes.DeviceId)?.Value);
}

/// <summary>Source-generated serialization, as the slim host expects.</summary>
[JsonSerializable(typeof(EchoResponse))]
internal sealed partial class SampleJsonContext : JsonSerializerContext
{
}
