namespace ZtGateway.Policy.Configuration;

/// <summary>The <c>telemetry:</c> section.</summary>
public sealed record TelemetrySettings
{
    /// <summary>OpenTelemetry service name. Defaults to <c>ztgw</c>.</summary>
    public string ServiceName { get; init; } = "ztgw";

    /// <summary>OTLP endpoint; empty (the default) disables export.</summary>
    public string OtlpEndpoint { get; init; } = string.Empty;

    /// <summary><c>grpc</c> (the default) or <c>http/protobuf</c>.</summary>
    public string OtlpProtocol { get; init; } = "grpc";
}
