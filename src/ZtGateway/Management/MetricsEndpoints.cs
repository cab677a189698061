using ZtGateway.Telemetry;

namespace ZtGateway.Management;

/// <summary><c>GET /metrics</c>: the <c>ztgw.*</c> instruments in the Prometheus text format, for a scraper on the management network.</summary>
internal static class MetricsEndpoints
{
    public const string Path = "/metrics";

    public static void Map(WebApplication app) =>
        app.MapGet(Path, (GatewayTelemetry telemetry) => Results.Text(telemetry.Metrics.Render(), PrometheusMetrics.ContentType));
}
