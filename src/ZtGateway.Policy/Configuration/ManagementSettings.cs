namespace ZtGateway.Policy.Configuration;

/// <summary>The <c>gateway.management:</c> section.</summary>
public sealed record ManagementSettings
{
    /// <summary>URL of the management listener. Defaults to <c>http://127.0.0.1:9090</c>; empty disables it.</summary>
    public string Listen { get; init; } = "http://127.0.0.1:9090";
}
