using OpenTelemetry.Exporter;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace ZtGateway.SampleService;

/// <summary>
/// Server spans for the demo upstream, so that a request shows in one trace from the gateway to the service.
/// Export is on when <c>--otlp-endpoint</c> is given or when the standard <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> /
/// <c>OTEL_EXPORTER_OTLP_TRACES_ENDPOINT</c> variables are set; the other <c>OTEL_*</c> variables apply as usual.
/// </summary>
internal static class SampleTelemetry
{
    private const string TracesPath = "/v1/traces";

    public static void AddSampleTelemetry(this WebApplicationBuilder builder, SampleServiceSettings settings)
    {
        var configuration = builder.Configuration;
        var fromEnvironment = !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"])
            || !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]);
        if (settings.OtlpEndpoint is null && !fromEnvironment)
        {
            return;
        }

        // OTEL_SERVICE_NAME, when set, names the service; otherwise the service's own name does.
        var named = !string.IsNullOrWhiteSpace(configuration["OTEL_SERVICE_NAME"]);
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource =>
            {
                if (!named)
                {
                    resource.AddService(settings.ServiceName);
                }
            })
            .WithTracing(tracing => tracing
                .AddAspNetCoreInstrumentation(options => options.Filter = context => context.Request.Path != SampleEndpoints.HealthPath)
                .AddOtlpExporter(options =>
                {
                    if (settings.OtlpEndpoint is { } endpoint)
                    {
                        var http = settings.OtlpProtocol == "http/protobuf";
                        options.Protocol = http ? OtlpExportProtocol.HttpProtobuf : OtlpExportProtocol.Grpc;
                        options.Endpoint = http && !endpoint.AbsolutePath.EndsWith(TracesPath, StringComparison.Ordinal)
                            ? new Uri(endpoint.GetLeftPart(UriPartial.Path).TrimEnd('/') + TracesPath)
                            : endpoint;
                    }
                }));
    }
}
