using System.Formats.Asn1;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Engine;
using ZtGateway.Sources.Continuous;
using ZtGateway.Sources.Identity;

namespace ZtGateway.Sources.Device;

/// <summary>
/// Device identity from a client certificate, BeyondCorp style (docs/design.md section 3): a certificate chained to
/// <c>device.certificates.ca</c> names a device, and that device's posture is the latest assertion its EDR/MDM bridge
/// pushed (<see cref="PushedPostureStore"/>), verified by the one <see cref="DevicePostureVerifier"/>, exactly as a posture
/// header would be.
/// </summary>
/// <remarks>
/// The rules: a pushed assertion that is absent or expired is no posture (<see cref="DeviceStatus.Absent"/>, as a missing
/// header); a posture header sent beside the certificate must name the same device, else <see cref="DeviceStatus.Invalid"/>;
/// a pushed assertion that does not verify, or names another device, is <see cref="DeviceStatus.Invalid"/>; a device
/// certificate that names nothing (no such subject alternative name or common name) is <see cref="DeviceStatus.Invalid"/>.
/// </remarks>
internal static class DeviceCertificates
{
    private const string CommonNameOid = "2.5.4.3";

    // A listener hands every request of a connection the same certificate object: its names are read once per connection.
    private static readonly ConditionalWeakTable<X509Certificate2, Reading> Readings = [];

    private sealed record Reading(DeviceIdSource IdFrom, string? DeviceId, string? Problem);

    /// <summary>The device a device certificate names, or why it names none (read once per certificate object and <paramref name="idFrom"/>).</summary>
    public static (string? DeviceId, string? Problem) Name(X509Certificate2 certificate, DeviceIdSource idFrom)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        if (Readings.TryGetValue(certificate, out var known) && known.IdFrom == idFrom)
        {
            return (known.DeviceId, known.Problem);
        }

        var (deviceId, problem) = NameUncached(certificate, idFrom);
        Readings.AddOrUpdate(certificate, new Reading(idFrom, deviceId, problem));
        return (deviceId, problem);
    }

    private static (string? DeviceId, string? Problem) NameUncached(X509Certificate2 certificate, DeviceIdSource idFrom)
    {
        try
        {
            var name = idFrom switch
            {
                DeviceIdSource.Uri => X509Svid.UriNames(certificate).FirstOrDefault(),
                DeviceIdSource.Dns => certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().FirstOrDefault()?.EnumerateDnsNames().FirstOrDefault(),
                _ => CommonName(certificate),
            };
            return string.IsNullOrEmpty(name)
                ? (null, "the device certificate has no " + idFrom switch
                {
                    DeviceIdSource.Uri => "URI subject alternative name",
                    DeviceIdSource.Dns => "DNS subject alternative name",
                    _ => "subject common name",
                } + " to name its device (device.certificates.idFrom)")
                : (name, null);
        }
        catch (Exception ex) when (ex is AsnContentException or CryptographicException or InvalidOperationException)
        {
            return (null, "the device certificate's names cannot be read");
        }
    }

    /// <summary>
    /// The posture of the device a certificate names: the header's, when one was sent and names the same device; else the
    /// assertion pushed for the device, verified now.
    /// </summary>
    /// <param name="deviceId">The device the certificate names.</param>
    /// <param name="header">The verdict on the posture header; <see cref="PostureOutcome.Absent"/> when none was sent.</param>
    /// <param name="pushed">The pushed assertions.</param>
    /// <param name="verifier">The posture verifier of the policy in force.</param>
    /// <param name="principal">The caller, for an assertion bound to a user.</param>
    /// <param name="recent">The connection's last posture, to find the verdict without hashing.</param>
    /// <param name="now">The gateway's time.</param>
    /// <param name="cancellationToken">The request's.</param>
    public static async ValueTask<PostureOutcome> PostureAsync(string deviceId, PostureOutcome header, PushedPostureStore pushed,
        DevicePostureVerifier verifier, Principal? principal, RecentCredential? recent, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (header.Status != DeviceStatus.Absent)
        {
            return header.Device is { } named && !string.Equals(named.DeviceId, deviceId, StringComparison.Ordinal)
                ? PostureOutcome.Invalid($"the client certificate names device {deviceId}; the posture assertion names device {named.DeviceId}")
                : header;
        }

        if (pushed.Latest(deviceId, now) is not { } latest)
        {
            return PostureOutcome.Absent with { Detail = "no posture assertion pushed for device " + deviceId + " is in force" };
        }

        var outcome = await verifier.VerifyAsync(latest.Assertion, principal, recent, cancellationToken);
        if (outcome.Device is { } device && !string.Equals(device.DeviceId, deviceId, StringComparison.Ordinal))
        {
            // The shared store holds text; a record filed under one device that speaks of another is not believed.
            return PostureOutcome.Invalid($"the posture pushed for device {deviceId} names device {device.DeviceId}");
        }

        return outcome.Status == DeviceStatus.Invalid
            ? outcome with { Detail = "pushed posture: " + outcome.Detail, PushedAssertion = latest.Assertion }
            : outcome with { PushedAssertion = latest.Assertion };
    }

    private static string? CommonName(X509Certificate2 certificate)
    {
        foreach (var rdn in certificate.SubjectName.EnumerateRelativeDistinguishedNames())
        {
            if (rdn.GetSingleElementType().Value == CommonNameOid)
            {
                return rdn.GetSingleElementValue();
            }
        }

        return null;
    }
}
