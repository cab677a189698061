namespace ZtGateway.Policy.Configuration;

/// <summary>The <c>assertion:</c> section: the identity handed to upstream services.</summary>
public sealed record AssertionSettings
{
    /// <summary>Header set on forwarded requests. Defaults to <c>X-ZT-Assertion</c>.</summary>
    public string Header { get; init; } = "X-ZT-Assertion";

    /// <summary>The <c>iss</c> of gateway assertions. Defaults to <c>https://ztgw.example</c>.</summary>
    public string Issuer { get; init; } = "https://ztgw.example";

    /// <summary>Absolute path of the EC P-256 signing key (PEM); it must exist, a start never creates it.</summary>
    public string SigningKeyFile { get; init; } = "keys/gateway-signing.pem";

    /// <summary>Assertion lifetime. Defaults to 60 seconds.</summary>
    public TimeSpan Lifetime { get; init; } = TimeSpan.FromSeconds(60);
}
