using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;
using ZtGateway.SampleService;

namespace ZtGateway.Upstream.Tests.SampleService;

public sealed class SampleTelemetryTests
{
    private static readonly string[] Base = ["--urls", "http://127.0.0.1:0", "--service", "payroll", "--gateway-jwks", "http://127.0.0.1:1/jwks.json"];

    [Fact]
    public async Task OtlpEndpoint_TurnsTracingOn()
    {
        await using var app = SampleServiceApp.Build([.. Base, "--otlp-endpoint", "http://127.0.0.1:4318", "--otlp-protocol", "http/protobuf"]);

        Assert.NotNull(app.Services.GetService<TracerProvider>());
    }

    [Fact]
    public async Task WithoutEndpoint_NothingIsTraced()
    {
        Assert.Null(Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT"));
        await using var app = SampleServiceApp.Build(Base);

        Assert.Null(app.Services.GetService<TracerProvider>());
    }

    [Theory]
    [InlineData("--otlp-protocol", "thrift")]
    [InlineData("--otlp-endpoint", "not a url")]
    public void BadTelemetrySettings_AreRefused(string option, string value) =>
        Assert.Throws<InvalidOperationException>(() => SampleServiceApp.Build([.. Base, option, value]));
}
