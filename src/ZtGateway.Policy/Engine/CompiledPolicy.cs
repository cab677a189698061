using System.Collections.Frozen;
using System.Net;
using ZtGateway.Policy.Configuration;

namespace ZtGateway.Policy.Engine;

/// <summary>Where a caller was placed, and whether its address contradicts the placement.</summary>
internal readonly record struct SourcePlacement(int Index, string Name, bool Mismatch);

/// <summary>
/// A <see cref="PolicySet"/> compiled for decisions: a route table per segment, and the maps that place a caller
/// in its source segment (workload to segment across all segments, member networks most specific first). Immutable.
/// </summary>
internal sealed class CompiledPolicy
{
    private readonly FrozenDictionary<string, int> workloadSegments;
    private readonly IPNetwork[][] segmentNetworks;
    private readonly (IPNetwork Network, int Index)[] networks;

    /// <summary>Compiles <paramref name="policy"/>.</summary>
    /// <exception cref="ArgumentException">A route's path template cannot be parsed.</exception>
    public CompiledPolicy(PolicySet policy)
    {
        // Ordered by name so that placement ties (a workload or network listed twice, which validation reports)
        // resolve the same way whatever dictionary the loader built.
        var segments = policy.Segments.Values.OrderBy(s => s.Name, StringComparer.Ordinal).ToArray();
        Sources = new SourceSegments(segments.Select(s => s.Name).ToArray());
        MfaMethods = policy.Gateway.Identity.MfaMethods.ToFrozenSet(StringComparer.Ordinal);
        ClockSkew = policy.Gateway.Identity.ClockSkew;

        var workloads = new Dictionary<string, int>(StringComparer.Ordinal);
        var memberNetworks = new List<(IPNetwork Network, int Index)>();
        segmentNetworks = new IPNetwork[segments.Length][];
        for (var i = 0; i < segments.Length; i++)
        {
            foreach (var workload in segments[i].Members.Workloads)
            {
                workloads.TryAdd(workload, i);
            }

            segmentNetworks[i] = NetworkMatching.WithMappedForms(segments[i].Members.Networks);
            foreach (var network in segments[i].Members.Networks)
            {
                memberNetworks.Add((network, i));
            }
        }

        workloadSegments = workloads.ToFrozenDictionary(StringComparer.Ordinal);

        // Most specific prefix first; the sort is stable, so equal prefixes keep segment order. Each IPv4 network's mapped
        // form sits beside it, so it keeps the same rank.
        networks = [.. memberNetworks
            .OrderByDescending(n => n.Network.PrefixLength)
            .SelectMany(n => NetworkMatching.WithMappedForms([n.Network]).Select(network => (network, n.Index)))];

        Segments = segments.ToFrozenDictionary(s => s.Name, s => new SegmentRouteTable(s, Sources), StringComparer.Ordinal);
    }

    /// <summary>Route tables by segment name.</summary>
    public FrozenDictionary<string, SegmentRouteTable> Segments { get; }

    /// <summary>The source segments rules can name.</summary>
    public SourceSegments Sources { get; }

    /// <summary><c>amr</c> values that count as multi-factor.</summary>
    public FrozenSet<string> MfaMethods { get; }

    /// <summary>Tolerance added to <c>maxAuthAge</c>.</summary>
    public TimeSpan ClockSkew { get; }

    /// <summary>
    /// Places the caller: a workload by <c>members.workloads</c>; a user by its verified device; anyone else by the
    /// most specific member network holding <paramref name="address"/>; otherwise <c>unknown</c>.
    /// </summary>
    public SourcePlacement Place(Principal principal, DevicePosture? device, IPAddress? address)
    {
        if (principal.Kind == PrincipalKind.Workload)
        {
            if (workloadSegments.TryGetValue(principal.WorkloadId ?? principal.Subject, out var index))
            {
                // A workload token used from outside its segment's networks is a stolen token until proven otherwise.
                var own = segmentNetworks[index];
                var mismatch = own.Length > 0 && (address is null || !NetworkMatching.Contains(own, address));
                return new SourcePlacement(index, Sources.NameOf(index), mismatch);
            }
        }
        else if (device is not null)
        {
            return Sources.TryGetIndex(device.Segment, out var index)
                ? new SourcePlacement(index, Sources.NameOf(index), false)
                : new SourcePlacement(-1, device.Segment, false);
        }

        if (address is not null)
        {
            foreach (var (network, index) in networks)
            {
                if (network.Contains(address))
                {
                    return new SourcePlacement(index, Sources.NameOf(index), false);
                }
            }
        }

        return new SourcePlacement(Sources.UnknownIndex, SourceSegments.Unknown, false);
    }
}
