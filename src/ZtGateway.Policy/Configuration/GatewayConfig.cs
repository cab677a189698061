namespace ZtGateway.Policy.Configuration;

/// <summary>
/// The deployment-wide file, <c>gateway.yaml</c> (docs/design.md section 2.1). Immutable; every path in it
/// is already resolved to an absolute path against the folder of the file.
/// </summary>
public sealed record GatewayConfig
{
    /// <summary>Absolute path of the gateway.yaml this was read from.</summary>
    public required string FilePath { get; init; }

    /// <summary>The <c>gateway:</c> section.</summary>
    public GatewaySettings Gateway { get; init; } = new();

    /// <summary>The <c>identity:</c> section.</summary>
    public IdentitySettings Identity { get; init; } = new();

    /// <summary>The <c>device:</c> section.</summary>
    public DeviceSettings Device { get; init; } = new();

    /// <summary>The <c>assertion:</c> section.</summary>
    public AssertionSettings Assertion { get; init; } = new();

    /// <summary>The <c>telemetry:</c> section.</summary>
    public TelemetrySettings Telemetry { get; init; } = new();

    /// <summary>The <c>signals:</c> section.</summary>
    public SignalsSettings Signals { get; init; } = new();

    /// <summary>The <c>admin:</c> section; null when absent (the admin API is then closed to everyone).</summary>
    public AdminSettings? Admin { get; init; }

    /// <summary>The <c>detection:</c> section.</summary>
    public DetectionSettings Detection { get; init; } = new();

    /// <summary>The <c>audit:</c> section.</summary>
    public AuditSettings Audit { get; init; } = new();

    /// <summary>The <c>signIn:</c> section; null when absent (no segment signs people in).</summary>
    public SignInSettings? SignIn { get; init; }
}
