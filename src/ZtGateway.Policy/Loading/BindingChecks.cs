using ZtGateway.Policy.Configuration;

namespace ZtGateway.Policy.Loading;

/// <summary>
/// Warnings about credentials bound to the connection that no listener could ever see: a <c>boundToken</c> rule on a
/// listener that asks for no client certificate, and workload or device certificates that no listener asks for.
/// </summary>
internal static class BindingChecks
{
    public static void Run(GatewayFile gateway, IReadOnlyList<SegmentFile> segments, DiagnosticBag diagnostics)
    {
        var anyAsks = false;
        foreach (var segment in segments)
        {
            if (AsksForCertificates(segment.Config))
            {
                anyAsks = true;
                continue;
            }

            foreach (var rule in segment.Config.Routes.SelectMany(r => r.Allow).Where(r => r.BoundToken))
            {
                // Nothing is wrong with the rule itself, and it fails closed: every request it takes is refused token-unbound.
                diagnostics.Warning(rule.Location,
                    $"rule '{rule.Name}': boundToken is true, but the listener of segment '{segment.Config.Name}' asks for no client " +
                    "certificate (tls.clientCertificates), so no request can satisfy the rule");
            }
        }

        if (gateway.Config.Identity.WorkloadCertificates is { } certificates && !anyAsks && segments.Count > 0)
        {
            diagnostics.Warning(certificates.Location,
                "'identity.workloadCertificates' is set, but no segment listener asks for client certificates (tls.clientCertificates), " +
                "so no certificate will name a workload");
        }

        if (gateway.Config.Device.Certificates is { } devices && !anyAsks && segments.Count > 0)
        {
            diagnostics.Warning(devices.Location,
                "'device.certificates' is set, but no segment listener asks for client certificates (tls.clientCertificates), " +
                "so no certificate will name a device");
        }
    }

    private static bool AsksForCertificates(SegmentConfig segment) =>
        segment.Tls is { ClientCertificates: not ClientCertificateRequirement.None };
}
