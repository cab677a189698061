using ZtGateway.Policy.Engine;

namespace ZtGateway.Policy.Analysis.Rendering;

/// <summary>Words more than one format writes the same way.</summary>
internal static class Labels
{
    private const string AnySource = "*";

    /// <summary>The label of a grant's edge in the diagrams, e.g. <c>users in groups [hr-staff] · GET · rule hr-staff · mfa</c>.</summary>
    public static string Grant(AccessGrant grant)
    {
        var requirements = Text.Requirements(grant.Requirements);
        var label = $"{Text.Principals(grant)} · {Text.Methods(grant.Methods)} · rule {grant.Rule}";
        label = requirements.Length == 0 ? label : $"{label} · {requirements}";
        return grant.Blocked is { } blocked ? $"{label} · dead: {blocked.ToCode()}" : label;
    }

    /// <summary>Sources named by <c>from</c> that are not segments of the policy: <c>*</c> and <c>unknown</c>.</summary>
    public static IEnumerable<string> ExtraSources(ReachabilityGraph graph)
    {
        var segments = graph.Segments.Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
        return graph.Grants.SelectMany(g => g.From).Where(f => !segments.Contains(f)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
    }

    /// <summary>The node label of a source that is not a segment.</summary>
    public static string Source(string source) => source == AnySource ? "any segment" : source;

    /// <summary><c>*</c> for every method, else the methods of the hop joined by commas.</summary>
    public static string Methods(BlastHop hop) => hop.AnyMethod ? "*" : string.Join(',', hop.Methods);

    /// <summary><c>*</c> for every method, else the methods of the change joined by commas.</summary>
    public static string Methods(AccessChange change) => change.AnyMethod ? "*" : string.Join(',', change.Methods);

    /// <summary>What a change does: opens, weakens, closes or tightens.</summary>
    public static string Verb(AccessChangeKind kind) => kind switch
    {
        AccessChangeKind.Opened => "opens",
        AccessChangeKind.Weakened => "weakens",
        AccessChangeKind.Closed => "closes",
        _ => "tightens",
    };

    /// <summary>A token status as explain writes it, e.g. <c>invalid</c>.</summary>
    public static string Status(TokenStatus status) => status.ToString().ToLowerInvariant();

    /// <summary>A device status as explain writes it, e.g. <c>verified</c>.</summary>
    public static string Status(DeviceStatus status) => status.ToString().ToLowerInvariant();
}
