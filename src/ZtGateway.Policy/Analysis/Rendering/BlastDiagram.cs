namespace ZtGateway.Policy.Analysis.Rendering;

/// <summary>One node of a <see cref="BlastDiagram"/>; round for the compromise and the workloads taken over.</summary>
internal readonly record struct DiagramNode(string Id, string Label, bool Round);

/// <summary>One edge of a <see cref="BlastDiagram"/>; dotted for "runs as".</summary>
internal readonly record struct DiagramEdge(string From, string To, string Label, bool Dotted);

/// <summary>
/// A blast radius as a graph, the same for Mermaid and DOT. Nodes: the compromise, every route reached, every workload
/// taken over; edges: the hops and the take-overs. Each node and edge once, in the order first met.
/// </summary>
internal sealed class BlastDiagram
{
    private readonly HashSet<string> known = new(StringComparer.Ordinal);
    private readonly List<DiagramNode> nodes = [];
    private readonly List<DiagramEdge> edges = [];

    private BlastDiagram()
    {
    }

    /// <summary>The nodes, the compromise first.</summary>
    public IReadOnlyList<DiagramNode> Nodes => nodes;

    /// <summary>The edges.</summary>
    public IReadOnlyList<DiagramEdge> Edges => edges;

    /// <summary>The diagram of <paramref name="report"/>.</summary>
    public static BlastDiagram Of(BlastRadiusReport report)
    {
        var diagram = new BlastDiagram();
        const string Start = "start";
        diagram.Node(Start, "compromised: " + report.Start, round: true);
        foreach (var path in report.Paths)
        {
            var from = Start;
            foreach (var hop in path.Hops)
            {
                var route = $"route:{hop.DestinationSegment}/{hop.Route.Id}";
                diagram.Node(route, $"{hop.DestinationSegment}/{hop.Route.Id}\n{Labels.Methods(hop)} {hop.Route.Path}", round: false);
                diagram.Edge(from, route, $"{hop.Actor} · rule {string.Join(", ", hop.Rules)}", dotted: false);
                if (hop.Route.ServiceIdentity is { } identity && !ReferenceEquals(hop, path.Target))
                {
                    var workload = "workload:" + identity;
                    diagram.Node(workload, "workload " + identity, round: true);
                    diagram.Edge(route, workload, "runs as", dotted: true);
                    from = workload;
                }
            }
        }

        return diagram;
    }

    private void Node(string id, string label, bool round)
    {
        if (known.Add(id))
        {
            nodes.Add(new DiagramNode(id, label, round));
        }
    }

    private void Edge(string from, string to, string label, bool dotted)
    {
        var edge = new DiagramEdge(from, to, label, dotted);
        if (!edges.Contains(edge))
        {
            edges.Add(edge);
        }
    }
}
