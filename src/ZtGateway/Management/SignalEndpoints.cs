using ZtGateway.Sources.Signals;

namespace ZtGateway.Management;

/// <summary><c>POST /ssf/events</c>: push delivery of Security Event Tokens (RFC 8935) from configured transmitters.</summary>
internal static class SignalEndpoints
{
    public const string Path = "/ssf/events";

    public static void Map(WebApplication app) =>
        app.MapPost(Path, (HttpContext context, SignalReceiver signals) => signals.HandleAsync(context));
}
