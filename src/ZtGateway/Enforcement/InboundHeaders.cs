using Microsoft.Extensions.Primitives;

namespace ZtGateway.Enforcement;

/// <summary>
/// Removes headers a caller must never be able to set for an upstream: every <c>X-ZT-*</c> header (the
/// gateway's own assertion family), the device-posture header, and plain device claims such as
/// <c>X-Device-Compliant</c> that are never believed.
/// </summary>
internal static class InboundHeaders
{
    private const string GatewayPrefix = "X-ZT-";
    private const string DevicePrefix = "X-Device-";

    /// <summary>Strips the headers and returns the device-posture header value that was sent, if any.</summary>
    public static StringValues StripUntrusted(IHeaderDictionary headers, string deviceHeader)
    {
        headers.TryGetValue(deviceHeader, out var device);
        List<string>? doomed = null;
        foreach (var header in headers)
        {
            var name = header.Key;
            if (name.StartsWith(GatewayPrefix, StringComparison.OrdinalIgnoreCase)
                || name.StartsWith(DevicePrefix, StringComparison.OrdinalIgnoreCase)
                || name.Equals(deviceHeader, StringComparison.OrdinalIgnoreCase))
            {
                (doomed ??= []).Add(name);
            }
        }

        if (doomed is not null)
        {
            foreach (var name in doomed)
            {
                headers.Remove(name);
            }
        }

        return device;
    }
}
