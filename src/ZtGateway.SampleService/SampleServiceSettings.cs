using Microsoft.Extensions.Configuration;

namespace ZtGateway.SampleService;

/// <summary>
/// The demo upstream's settings. From the command line: <c>--service NAME</c>,
/// <c>--gateway-issuer URL</c>, <c>--gateway-jwks URL</c>; from the environment:
/// <c>SampleService__Name</c>, <c>SampleService__GatewayIssuer</c>, <c>SampleService__GatewayJwks</c>.
/// </summary>
internal sealed record SampleServiceSettings(string ServiceName, string GatewayIssuer, Uri? GatewayJwks)
{
    public const string DefaultGatewayIssuer = "https://ztgw.example";

    private const string Section = "SampleService";

    /// <summary>Command-line switches and the configuration keys they set.</summary>
    public static readonly IReadOnlyDictionary<string, string> SwitchMappings = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["--service"] = Section + ":Name",
        ["--gateway-issuer"] = Section + ":GatewayIssuer",
        ["--gateway-jwks"] = Section + ":GatewayJwks",
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

        return new SampleServiceSettings(
            name.Trim(),
            string.IsNullOrWhiteSpace(issuer) ? DefaultGatewayIssuer : issuer.Trim(),
            jwksUri);
    }
}
