using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Loading.Yaml;

namespace ZtGateway.Policy.Loading;

/// <summary>The <c>identity.workloadCertificates</c> section: which X.509-SVIDs name workloads.</summary>
internal sealed partial class GatewayFileMapper
{
    private const string WorkloadCertificatesKey = "identity.workloadCertificates";
    private const string TrustDomainsKey = WorkloadCertificatesKey + ".trustDomains";

    private WorkloadCertificateSettings? ReadWorkloadCertificates(Node? node)
    {
        var map = reader.Mapping(node, WorkloadCertificatesKey);
        if (map is null)
        {
            return null;
        }

        var domainsNode = map.Required("trustDomains", $"'{WorkloadCertificatesKey}'");
        map.Complete($"'{WorkloadCertificatesKey}'");
        var items = reader.ScalarList(domainsNode, TrustDomainsKey);
        if (items is null)
        {
            return null;
        }

        if (domainsNode is SequenceNode { Items.Count: 0 })
        {
            // An empty list would read as "certificates are on" and name no workload: say so rather than guess.
            reader.Error(domainsNode.Location, $"'{TrustDomainsKey}' must name at least one trust domain");
        }

        var seen = new Dictionary<string, SourceLocation>(StringComparer.Ordinal);
        var domains = new List<string>(items.Count);
        foreach (var item in items)
        {
            if (!SpiffeId.IsTrustDomain(item.Value))
            {
                reader.Error(item.Location, $"'{TrustDomainsKey}' has an invalid trust domain '{item.Value}' ({SpiffeId.TrustDomainHint})");
            }
            else if (!seen.TryAdd(item.Value, item.Location))
            {
                reader.Error(item.Location, $"trust domain '{item.Value}' is listed twice in '{TrustDomainsKey}' (first at line {seen[item.Value].Line})");
            }
            else
            {
                domains.Add(item.Value);
            }
        }

        return new WorkloadCertificateSettings { TrustDomains = domains, Location = map.Location };
    }
}
