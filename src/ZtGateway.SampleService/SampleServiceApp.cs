using ZtGateway.Upstream;

namespace ZtGateway.SampleService;

/// <summary>
/// Builds the demo upstream: a service that accepts only requests carrying a valid gateway assertion
/// and echoes who the gateway says called it. Used by <c>Program</c>, by tests and by the gateway's demo.
/// </summary>
public static class SampleServiceApp
{
    /// <summary>
    /// Builds, but does not start, the demo upstream.
    /// </summary>
    /// <param name="args">
    /// Command-line arguments: <c>--urls URLS</c> (for example <c>http://127.0.0.1:0</c>),
    /// <c>--service NAME</c> (required; the assertion audience), <c>--gateway-issuer URL</c>
    /// (defaults to <c>https://ztgw.example</c>), <c>--gateway-jwks URL</c> (the gateway's
    /// <c>/.well-known/ztgw/jwks.json</c>; required unless <paramref name="configureAssertion"/> sets static keys).
    /// <c>--otlp-endpoint URL</c> and <c>--otlp-protocol grpc|http/protobuf</c> export the service's server spans by
    /// OTLP (the standard <c>OTEL_EXPORTER_OTLP_*</c> variables do too), so they join the gateway's traces.
    /// The same settings are read from the environment as <c>SampleService__Name</c>,
    /// <c>SampleService__GatewayIssuer</c>, <c>SampleService__GatewayJwks</c>, <c>SampleService__OtlpEndpoint</c>
    /// and <c>SampleService__OtlpProtocol</c>.
    /// </param>
    /// <param name="configureAssertion">
    /// Optional last word on the assertion options, applied after the settings above
    /// (a test clock, a backchannel handler, static keys).
    /// </param>
    /// <returns>The application; start it with <c>StartAsync</c> or <c>RunAsync</c>.</returns>
    /// <exception cref="InvalidOperationException">
    /// <c>--service</c> is missing, <c>--gateway-jwks</c> or <c>--otlp-endpoint</c> is not a URL, or <c>--otlp-protocol</c> is unknown.
    /// </exception>
    public static WebApplication Build(string[] args, Action<ZtGatewayAssertionOptions>? configureAssertion = null)
    {
        ArgumentNullException.ThrowIfNull(args);

        var builder = WebApplication.CreateSlimBuilder(args);
        builder.Configuration.AddCommandLine(args, SampleServiceSettings.SwitchMappings.ToDictionary());
        var settings = SampleServiceSettings.Read(builder.Configuration);
        builder.AddSampleTelemetry(settings);

        builder.Services.AddZtGatewayAssertion(options =>
        {
            options.Issuer = settings.GatewayIssuer;
            options.Audience = settings.ServiceName;
            options.JwksUri = settings.GatewayJwks;
            configureAssertion?.Invoke(options);
        });

        var app = builder.Build();
        app.MapSampleEndpoints(settings.ServiceName);
        return app;
    }
}
