namespace ZtGateway.Policy.Configuration;

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

    /// <summary>The <c>device.certificates</c> section; null when absent (no client certificate names a device).</summary>
    public DeviceCertificateSettings? Certificates { get; init; }
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
