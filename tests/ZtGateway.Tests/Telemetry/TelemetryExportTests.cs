using OpenTelemetry.Exporter;
using ZtGateway.Policy.Configuration;
using ZtGateway.Telemetry;

namespace ZtGateway.Tests.Telemetry;

public sealed class TelemetryExportTests
{
    private static Func<string, string?> Environment(params (string Name, string Value)[] variables) =>
        name => variables.FirstOrDefault(v => v.Name == name).Value;

    [Fact]
    public void NoEndpoint_AndNoEnvironment_ExportsNothing() =>
        Assert.Null(TelemetryExport.Resolve(new TelemetrySettings(), Environment()));

    [Fact]
    public void ConfiguredGrpcEndpoint_IsUsedAsIs()
    {
        var export = TelemetryExport.Resolve(new TelemetrySettings { OtlpEndpoint = "http://jaeger:4317" }, Environment());

        Assert.NotNull(export);
        Assert.Equal(new Uri("http://jaeger:4317"), export.Endpoint);
        Assert.Equal(OtlpExportProtocol.Grpc, export.Protocol);
    }

    [Theory]
    [InlineData("http://jaeger:4318", "http://jaeger:4318/v1/traces")]
    [InlineData("http://jaeger:4318/", "http://jaeger:4318/v1/traces")]
    [InlineData("http://collector/otlp", "http://collector/otlp/v1/traces")]
    [InlineData("http://jaeger:4318/v1/traces", "http://jaeger:4318/v1/traces")]
    public void ConfiguredHttpEndpoint_IsTheCollectorBase_TracesGoToV1Traces(string configured, string expected)
    {
        var export = TelemetryExport.Resolve(new TelemetrySettings { OtlpEndpoint = configured, OtlpProtocol = "http/protobuf" }, Environment());

        Assert.NotNull(export);
        Assert.Equal(new Uri(expected), export.Endpoint);
        Assert.Equal(OtlpExportProtocol.HttpProtobuf, export.Protocol);
    }

    [Theory]
    [InlineData("OTEL_EXPORTER_OTLP_ENDPOINT")]
    [InlineData("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")]
    public void EmptyEndpoint_WithTheStandardVariable_LeavesTheSettingsToTheExporter(string variable)
    {
        var export = TelemetryExport.Resolve(new TelemetrySettings(), Environment((variable, "http://collector:4317")));

        Assert.NotNull(export);
        Assert.Null(export.Endpoint);
        Assert.Null(export.Protocol);
    }

    [Fact]
    public void ConfiguredEndpoint_WinsOverTheEnvironment()
    {
        var export = TelemetryExport.Resolve(new TelemetrySettings { OtlpEndpoint = "http://jaeger:4317" },
            Environment(("OTEL_EXPORTER_OTLP_ENDPOINT", "http://elsewhere:4317")));

        Assert.Equal(new Uri("http://jaeger:4317"), export?.Endpoint);
    }

    [Fact]
    public void SdkDisabled_ExportsNothing() =>
        Assert.Null(TelemetryExport.Resolve(new TelemetrySettings { OtlpEndpoint = "http://jaeger:4317" }, Environment(("OTEL_SDK_DISABLED", "true"))));
}
