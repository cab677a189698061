namespace ZtGateway.Policy.Configuration;

/// <summary>The <c>signals:</c> section: CAEP transmitters.</summary>
public sealed record SignalsSettings
{
    /// <summary>Trusted transmitters.</summary>
    public IReadOnlyList<KeySourceConfig> Transmitters { get; init; } = [];
}
