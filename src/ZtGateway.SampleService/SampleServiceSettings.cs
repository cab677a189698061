namespace ZtGateway.SampleService;

/// <summary>
/// The demo upstream's settings. From the command line: <c>--service NAME</c>,
/// <c>--gateway-issuer URL</c>, <c>--gateway-jwks URL</c>, <c>--otlp-endpoint URL</c>, <c>--otlp-protocol grpc|http/protobuf</c>;
/// from the environment: <c>SampleService__Name</c>, <c>SampleService__GatewayIssuer</c>, <c>SampleService__GatewayJwks</c>,
/// <c>SampleService__OtlpEndpoint</c>, <c>SampleService__OtlpProtocol</c>.
/// </summary>
internal sealed record SampleServiceSettings(string ServiceName, string GatewayIssuer, Uri? GatewayJwks)
{
    /// <summary>Where to export traces (the collector's base address); null leaves it to the OTEL_* variables.</summary>
    public Uri? OtlpEndpoint { get; init; }

    /// <summary><c>grpc</c> (the default) or <c>http/protobuf</c>.</summary>
    public string OtlpProtocol { get; init; } = "grpc";

    public const string DefaultGatewayIssuer = "https://ztgw.example";

    private const string Section = "SampleService";

    /// <summary>Command-line switches and the configuration keys they set.</summary>
    public static readonly IReadOnlyDictionary<string, string> SwitchMappings = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["--service"] = Section + ":Name",
        ["--gateway-issuer"] = Section + ":GatewayIssuer",
        ["--gateway-jwks"] = Section + ":GatewayJwks",
        ["--otlp-endpoint"] = Section + ":OtlpEndpoint",
        ["--otlp-protocol"] = Section + ":OtlpProtocol",
    };

    public static SampleServiceSettings Read(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration.GetSection(Section);

        var name = section["Name"];
        if (string.IsNullOrWhiteSpace(name))
        {
            throw new InvalidOperationException("--service NAME is required: the service name the gateway puts in the assertion audience.");
        }

        var issuer = section["GatewayIssuer"];
        var jwks = section["GatewayJwks"];
        Uri? jwksUri = null;
        if (!string.IsNullOrWhiteSpace(jwks) && !Uri.TryCreate(jwks, UriKind.Absolute, out jwksUri))
        {
            throw new InvalidOperationException($"--gateway-jwks must be an absolute URL, got '{jwks}'.");
        }

        var otlp = section["OtlpEndpoint"];
        Uri? otlpUri = null;
        if (!string.IsNullOrWhiteSpace(otlp) && !Uri.TryCreate(otlp, UriKind.Absolute, out otlpUri))
        {
            throw new InvalidOperationException($"--otlp-endpoint must be an absolute URL, got '{otlp}'.");
        }

        var protocol = section["OtlpProtocol"];
        if (!string.IsNullOrWhiteSpace(protocol) && protocol.Trim() is not ("grpc" or "http/protobuf"))
        {
            throw new InvalidOperationException($"--otlp-protocol must be grpc or http/protobuf, got '{protocol}'.");
        }

        return new SampleServiceSettings(
            name.Trim(),
            string.IsNullOrWhiteSpace(issuer) ? DefaultGatewayIssuer : issuer.Trim(),
            jwksUri)
        {
            OtlpEndpoint = otlpUri,
            OtlpProtocol = string.IsNullOrWhiteSpace(protocol) ? "grpc" : protocol.Trim(),
        };
    }
}
