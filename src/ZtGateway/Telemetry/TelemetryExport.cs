using OpenTelemetry.Exporter;
using ZtGateway.Policy.Configuration;

namespace ZtGateway.Telemetry;

/// <summary>
/// Where the gateway's spans go, decided once at start. <c>telemetry.otlpEndpoint</c> wins when set; when it
/// is empty the standard <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> / <c>OTEL_EXPORTER_OTLP_TRACES_ENDPOINT</c> variables
/// turn export on and the exporter reads every <c>OTEL_EXPORTER_OTLP_*</c> setting itself.
/// </summary>
/// <param name="Endpoint">The traces endpoint; null when it comes from the environment.</param>
/// <param name="Protocol">The protocol; null when it comes from the environment.</param>
internal sealed record TelemetryExport(Uri? Endpoint, OtlpExportProtocol? Protocol)
{
    public const string HttpProtobuf = "http/protobuf";
    private const string TracesPath = "/v1/traces";

    /// <summary>A line for the start-up log.</summary>
    public string Description => Endpoint is null
        ? "OTLP per the OTEL_EXPORTER_OTLP_* environment"
        : $"OTLP {(Protocol == OtlpExportProtocol.HttpProtobuf ? HttpProtobuf : "grpc")} to {Endpoint}";

    /// <summary>The export to set up, or null when spans are not exported.</summary>
    public static TelemetryExport? Resolve(TelemetrySettings settings, Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(environment);
        if (string.Equals(environment("OTEL_SDK_DISABLED")?.Trim(), "true", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        if (!string.IsNullOrEmpty(settings.OtlpEndpoint))
        {
            var protocol = settings.OtlpProtocol == HttpProtobuf ? OtlpExportProtocol.HttpProtobuf : OtlpExportProtocol.Grpc;
            return new TelemetryExport(TracesEndpoint(new Uri(settings.OtlpEndpoint), protocol), protocol);
        }

        var fromEnvironment = !string.IsNullOrWhiteSpace(environment("OTEL_EXPORTER_OTLP_ENDPOINT"))
            || !string.IsNullOrWhiteSpace(environment("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"));
        return fromEnvironment ? new TelemetryExport(null, null) : null;
    }

    // Like OTEL_EXPORTER_OTLP_ENDPOINT, the configured endpoint is the collector's base address: over HTTP the
    // traces go to its /v1/traces, which the exporter does not add to an endpoint given in code.
    private static Uri TracesEndpoint(Uri endpoint, OtlpExportProtocol protocol)
    {
        if (protocol != OtlpExportProtocol.HttpProtobuf || endpoint.AbsolutePath.EndsWith(TracesPath, StringComparison.Ordinal))
        {
            return endpoint;
        }

        return new Uri(endpoint.GetLeftPart(UriPartial.Path).TrimEnd('/') + TracesPath);
    }
}
