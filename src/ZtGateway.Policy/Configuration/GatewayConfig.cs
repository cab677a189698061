using System.Net;

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
}

/// <summary>The <c>gateway:</c> section.</summary>
public sealed record GatewaySettings
{
    /// <summary>Absolute folder of the segment files. Written relative to gateway.yaml; defaults to <c>segments</c>.</summary>
    public string PolicyDir { get; init; } = "segments";

    /// <summary>Networks whose X-Forwarded-For is believed. Empty (the default): only the socket peer counts.</summary>
    public IReadOnlyList<IPNetwork> TrustedProxies { get; init; } = [];

    /// <summary>Absolute folder for revocation and quarantine state. Defaults to <c>state</c> beside gateway.yaml.</summary>
    public string StateDir { get; init; } = "state";

    /// <summary>The management listener.</summary>
    public ManagementSettings Management { get; init; } = new();

    /// <summary>The <c>gateway.limits</c> section: how many refusals one source may cause.</summary>
    public LimitsSettings Limits { get; init; } = new();
}

/// <summary>
/// The <c>gateway.limits:</c> section. Only refused requests take from a source's allowance; a source that used it
/// up is answered 429 <c>rate-limited</c> before any of its credentials is verified, until the allowance refills.
/// </summary>
public sealed record LimitsSettings
{
    /// <summary>The built-in refill rate: 50 refusals per second.</summary>
    public static RefusalRate DefaultRefusalsPerSource { get; } = new(50, TimeSpan.FromSeconds(1));

    /// <summary>
    /// How fast a source's allowance refills, written <c>50/s</c> or <c>600/m</c>; null when written <c>off</c>
    /// (no limit). Defaults to <see cref="DefaultRefusalsPerSource"/>.
    /// </summary>
    public RefusalRate? RefusalsPerSource { get; init; } = DefaultRefusalsPerSource;

    /// <summary>Refusals a source may cause in a burst (the bucket size). Defaults to 100.</summary>
    public int RefusalBurst { get; init; } = 100;
}

/// <summary>A refill rate of <paramref name="Count"/> refusals every <paramref name="Period"/> (one second or one minute).</summary>
public sealed record RefusalRate(int Count, TimeSpan Period)
{
    /// <summary>As written in gateway.yaml: <c>50/s</c>, <c>600/m</c>.</summary>
    public override string ToString() =>
        Count.ToString(System.Globalization.CultureInfo.InvariantCulture) + (Period == TimeSpan.FromMinutes(1) ? "/m" : "/s");
}

/// <summary>The <c>gateway.management:</c> section.</summary>
public sealed record ManagementSettings
{
    /// <summary>URL of the management listener. Defaults to <c>http://127.0.0.1:9090</c>; empty disables it.</summary>
    public string Listen { get; init; } = "http://127.0.0.1:9090";
}

/// <summary>Kinds of token issuer.</summary>
public enum IssuerType
{
    /// <summary>Microsoft Entra ID: discovery at its v2.0 authority, with the issuer and signing-key checks Entra tokens need.</summary>
    Entra,

    /// <summary>Any OpenID Provider, discovered at <c>{authority}/.well-known/openid-configuration</c>.</summary>
    Oidc,

    /// <summary>Static keys from a JWKS file (air-gapped sites, tests).</summary>
    Jwks,
}

/// <summary>The <c>identity:</c> section.</summary>
public sealed record IdentitySettings
{
    /// <summary>Trusted token issuers. At least one is required.</summary>
    public IReadOnlyList<IssuerConfig> Issuers { get; init; } = [];

    /// <summary>RFC 8176 <c>amr</c> values that count as multi-factor. Defaults to mfa, otp, hwk, swk, sc, fpt, face.</summary>
    public IReadOnlyList<string> MfaMethods { get; init; } = DefaultMfaMethods;

    /// <summary>Tolerance for <c>exp</c>, <c>nbf</c> and <c>auth_time</c>. Defaults to 60 seconds.</summary>
    public TimeSpan ClockSkew { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>The built-in multi-factor methods.</summary>
    public static IReadOnlyList<string> DefaultMfaMethods { get; } = ["mfa", "otp", "hwk", "swk", "sc", "fpt", "face"];
}

/// <summary>One entry of <c>identity.issuers</c>.</summary>
public sealed record IssuerConfig
{
    /// <summary>Unique name, used by <c>admin.issuer</c> and in logs. Required.</summary>
    public required string Name { get; init; }

    /// <summary>Kind of issuer. Required.</summary>
    public required IssuerType Type { get; init; }

    /// <summary>Entra: the cloud instance, e.g. <c>https://login.microsoftonline.com/</c>. Defaults to that value.</summary>
    public string? Instance { get; init; }

    /// <summary>Entra: the tenant id. Required for <see cref="IssuerType.Entra"/>.</summary>
    public string? TenantId { get; init; }

    /// <summary>OIDC: the authority; discovery is at <c>{authority}/.well-known/openid-configuration</c>. Required for <see cref="IssuerType.Oidc"/>.</summary>
    public string? Authority { get; init; }

    /// <summary>JWKS: the expected <c>iss</c> value. Required for <see cref="IssuerType.Jwks"/>.</summary>
    public string? Issuer { get; init; }

    /// <summary>JWKS: absolute path of the key set file. Required for <see cref="IssuerType.Jwks"/>.</summary>
    public string? JwksFile { get; init; }

    /// <summary>Accepted <c>aud</c> values. At least one is required.</summary>
    public IReadOnlyList<string> Audiences { get; init; } = [];

    /// <summary>OIDC/Entra: refuse metadata over plain HTTP. Defaults to true.</summary>
    public bool RequireHttpsMetadata { get; init; } = true;

    /// <summary>Where the entry was written.</summary>
    public SourceLocation Location { get; init; } = SourceLocation.None;
}

/// <summary>The <c>device:</c> section: device-posture assertions.</summary>
public sealed record DeviceSettings
{
    /// <summary>Request header carrying the posture JWT. Defaults to <c>X-Device-Posture</c>.</summary>
    public string Header { get; init; } = "X-Device-Posture";

    /// <summary>Required <c>aud</c> of posture assertions. Defaults to <c>ztgw</c>.</summary>
    public string Audience { get; init; } = "ztgw";

    /// <summary>Longest accepted lifetime (<c>exp - iat</c>). Defaults to 15 minutes.</summary>
    public TimeSpan MaxAge { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>Trusted posture issuers (EDR/MDM bridges).</summary>
    public IReadOnlyList<KeySourceConfig> Issuers { get; init; } = [];
}

/// <summary>An issuer whose keys come from a JWKS file or URI (posture issuers, signal transmitters).</summary>
public sealed record KeySourceConfig
{
    /// <summary>The expected <c>iss</c>. Required.</summary>
    public required string Issuer { get; init; }

    /// <summary>Absolute path of a JWKS file; exactly one of this and <see cref="JwksUri"/>.</summary>
    public string? JwksFile { get; init; }

    /// <summary>URI of a JWKS document; exactly one of this and <see cref="JwksFile"/>.</summary>
    public string? JwksUri { get; init; }

    /// <summary>Expected <c>aud</c> (signal transmitters only).</summary>
    public string? Audience { get; init; }

    /// <summary>Where the entry was written.</summary>
    public SourceLocation Location { get; init; } = SourceLocation.None;
}

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

/// <summary>The <c>signals:</c> section: CAEP transmitters.</summary>
public sealed record SignalsSettings
{
    /// <summary>Trusted transmitters.</summary>
    public IReadOnlyList<KeySourceConfig> Transmitters { get; init; } = [];
}

/// <summary>The <c>admin:</c> section: who may call <c>/admin/*</c>.</summary>
public sealed record AdminSettings
{
    /// <summary>Name of an entry of <c>identity.issuers</c>. Required.</summary>
    public required string Issuer { get; init; }

    /// <summary>Role the admin token must carry. Required.</summary>
    public required string Role { get; init; }
}

/// <summary>What the detector does on a finding.</summary>
public enum DetectionResponse
{
    /// <summary>Raise a finding only.</summary>
    Alert,

    /// <summary>Raise a finding and quarantine the principal or device for <see cref="DetectionSettings.ContainFor"/>.</summary>
    Contain,
}

/// <summary>The <c>detection:</c> section.</summary>
public sealed record DetectionSettings
{
    /// <summary>Sliding window. Defaults to 10 minutes.</summary>
    public TimeSpan Window { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Denials per principal or device within the window before a finding. Defaults to 20.</summary>
    public int MaxDenials { get; init; } = 20;

    /// <summary>Distinct destination segments within the window before a finding. Defaults to 3.</summary>
    public int MaxSegments { get; init; } = 3;

    /// <summary>Distinct routes (of any segment) within the window before a finding. Defaults to 10.</summary>
    public int MaxRoutes { get; init; } = 10;

    /// <summary>Time before first-seen segment pairs raise findings. Defaults to 24 hours.</summary>
    public TimeSpan LearningPeriod { get; init; } = TimeSpan.FromHours(24);

    /// <summary>Defaults to <see cref="DetectionResponse.Alert"/>.</summary>
    public DetectionResponse Response { get; init; } = DetectionResponse.Alert;

    /// <summary>Quarantine length in contain mode. Defaults to 30 minutes.</summary>
    public TimeSpan ContainFor { get; init; } = TimeSpan.FromMinutes(30);
}

/// <summary>The <c>audit:</c> section.</summary>
public sealed record AuditSettings
{
    /// <summary><c>stdout</c> or <c>file:PATH</c> (PATH resolved to absolute). Defaults to stdout.</summary>
    public IReadOnlyList<string> Sinks { get; init; } = ["stdout"];

    /// <summary>Whether allowed decisions are audited too. Defaults to true.</summary>
    public bool Allows { get; init; } = true;
}
