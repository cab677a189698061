namespace ZtGateway.Policy.Configuration;

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

    /// <summary>
    /// <c>identity.workloadCertificates</c>: verified client certificates that are X.509-SVIDs of these trust domains
    /// authenticate workloads. Null (the default) when absent: no certificate ever names a workload.
    /// </summary>
    public WorkloadCertificateSettings? WorkloadCertificates { get; init; }

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

/// <summary>
/// The <c>identity.workloadCertificates</c> section: which X.509-SVIDs (SPIFFE X509-SVID) name workloads when a listener
/// verified them as client certificates.
/// </summary>
public sealed record WorkloadCertificateSettings
{
    /// <summary>
    /// SPIFFE trust domains (lower case, e.g. <c>corp.example</c>) whose <c>spiffe://DOMAIN/...</c> ids name workloads.
    /// At least one is required.
    /// </summary>
    public IReadOnlyList<string> TrustDomains { get; init; } = [];

    /// <summary>Where the section was written.</summary>
    public SourceLocation Location { get; init; } = SourceLocation.None;
}
