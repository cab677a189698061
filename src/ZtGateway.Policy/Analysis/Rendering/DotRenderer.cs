namespace ZtGateway.Policy.Analysis.Rendering;

/// <summary>Graphviz DOT: the reachability graph and the blast radius.</summary>
internal static class DotRenderer
{
    /// <summary>One digraph with a cluster per segment holding its callers and routes, an edge per grant and source, dashed when dead.</summary>
    public static void Graph(ReachabilityGraph graph, TextWriter output)
    {
        output.WriteLine("digraph ztgw {");
        Header(output);
        foreach (var segment in graph.Segments)
        {
            output.WriteLine($"  subgraph {Quote("cluster_" + segment.Name)} {{");
            output.WriteLine($"    label={Quote(segment.Name)};");
            output.WriteLine($"    {Quote("src:" + segment.Name)} [label={Quote("callers in " + segment.Name)}, shape=ellipse];");
            foreach (var route in segment.Routes)
            {
                var denies = route.Deny.Count == 0 ? string.Empty : "\ndeny: " + string.Join(", ", route.Deny.Select(d => d.Rule));
                output.WriteLine($"    {Quote($"route:{segment.Name}/{route.Id}")} [label={Quote($"{route.Id}\n{Text.Methods(route.Methods)} {route.Path}{denies}")}];");
            }

            output.WriteLine("  }");
        }

        foreach (var source in Labels.ExtraSources(graph))
        {
            output.WriteLine($"  {Quote("src:" + source)} [label={Quote(Labels.Source(source))}, shape=ellipse];");
        }

        foreach (var grant in graph.Grants)
        {
            var style = grant.Blocked is null ? string.Empty : ", style=dashed";
            foreach (var source in grant.From)
            {
                output.WriteLine($"  {Quote("src:" + source)} -> {Quote($"route:{grant.DestinationSegment}/{grant.Route.Id}")} [label={Quote(Labels.Grant(grant))}{style}];");
            }
        }

        output.WriteLine("}");
    }

    /// <summary>The <see cref="BlastDiagram"/> as one digraph.</summary>
    public static void BlastRadius(BlastRadiusReport report, TextWriter output)
    {
        var diagram = BlastDiagram.Of(report);
        output.WriteLine("digraph blast_radius {");
        Header(output);
        foreach (var (id, label, round) in diagram.Nodes)
        {
            output.WriteLine($"  {Quote(id)} [label={Quote(label)}{(round ? ", shape=ellipse" : string.Empty)}];");
        }

        foreach (var (from, to, label, dotted) in diagram.Edges)
        {
            output.WriteLine($"  {Quote(from)} -> {Quote(to)} [label={Quote(label)}{(dotted ? ", style=dashed" : string.Empty)}];");
        }

        output.WriteLine("}");
    }

    private static void Header(TextWriter output)
    {
        output.WriteLine("  rankdir=LR;");
        output.WriteLine("  node [shape=box, fontname=\"Helvetica\"];");
        output.WriteLine("  edge [fontname=\"Helvetica\", fontsize=10];");
    }

    private static string Quote(string text) =>
        "\"" + text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal) + "\"";
}
