namespace ZtGateway.Policy.Configuration;

/// <summary>What names the device in a device certificate (<c>device.certificates.idFrom</c>).</summary>
public enum DeviceIdSource
{
    /// <summary><c>uri</c> (the default): the first URI subject alternative name.</summary>
    Uri,

    /// <summary><c>dns</c>: the first DNS subject alternative name.</summary>
    Dns,

    /// <summary><c>cn</c>: the subject's common name.</summary>
    Cn,
}

/// <summary>
/// The <c>device.certificates</c> section: client certificates issued by the MDM name devices, so a browser's device is
/// known from its TLS handshake and its posture is the one the EDR/MDM bridge pushed for that device. Null on
/// <see cref="DeviceSettings.Certificates"/> when absent: then no certificate names a device.
/// </summary>
public sealed record DeviceCertificateSettings
{
    /// <summary>PEM bundle of the CA (or CAs) that issues device certificates; read again when the file changes. Required.</summary>
    public required PemFile Ca { get; init; }

    /// <summary>Defaults to <see cref="DeviceIdSource.Uri"/>.</summary>
    public DeviceIdSource IdFrom { get; init; } = DeviceIdSource.Uri;

    /// <summary>Where the section was written.</summary>
    public SourceLocation Location { get; init; } = SourceLocation.None;
}
