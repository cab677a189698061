using System.Globalization;

namespace ZtGateway.Policy.Analysis.Rendering;

/// <summary>Mermaid flowcharts: the reachability graph and the blast radius.</summary>
internal static class MermaidRenderer
{
    /// <summary>A subgraph per segment holding its callers and routes, an edge per grant and source, dashed when dead.</summary>
    public static void Graph(ReachabilityGraph graph, TextWriter output)
    {
        var ids = new Ids();
        output.WriteLine("flowchart LR");
        foreach (var segment in graph.Segments)
        {
            output.WriteLine($"  subgraph {ids.Segment(segment.Name)}[\"{Escape(segment.Name)}\"]");
            output.WriteLine($"    {ids.Source(segment.Name)}([\"callers in {Escape(segment.Name)}\"])");
            foreach (var route in segment.Routes)
            {
                var denies = route.Deny.Count == 0 ? string.Empty : "<br/>deny: " + Escape(string.Join(", ", route.Deny.Select(d => d.Rule)));
                output.WriteLine($"    {ids.Route(segment.Name, route.Id)}[\"{Escape(route.Id)}<br/>{Escape(Text.Methods(route.Methods))} {Escape(route.Path)}{denies}\"]");
            }

            output.WriteLine("  end");
        }

        foreach (var source in Labels.ExtraSources(graph))
        {
            output.WriteLine($"  {ids.Source(source)}([\"{Escape(Labels.Source(source))}\"])");
        }

        foreach (var grant in graph.Grants)
        {
            var arrow = grant.Blocked is null ? "-->" : "-.->";
            foreach (var source in grant.From)
            {
                output.WriteLine($"  {ids.Source(source)} {arrow}|\"{Escape(Labels.Grant(grant))}\"| {ids.Route(grant.DestinationSegment, grant.Route.Id)}");
            }
        }
    }

    /// <summary>The <see cref="BlastDiagram"/>, nodes numbered in order.</summary>
    public static void BlastRadius(BlastRadiusReport report, TextWriter output)
    {
        var diagram = BlastDiagram.Of(report);
        var ids = diagram.Nodes.Select((n, i) => (n.Id, Short: "n" + i.ToString(CultureInfo.InvariantCulture))).ToDictionary(p => p.Id, p => p.Short, StringComparer.Ordinal);
        output.WriteLine("flowchart LR");
        foreach (var (id, label, round) in diagram.Nodes)
        {
            var text = Escape(label).Replace("\n", "<br/>", StringComparison.Ordinal);
            output.WriteLine(round ? $"  {ids[id]}([\"{text}\"])" : $"  {ids[id]}[\"{text}\"]");
        }

        foreach (var (from, to, label, dotted) in diagram.Edges)
        {
            output.WriteLine($"  {ids[from]} {(dotted ? "-.->" : "-->")}|\"{Escape(label)}\"| {ids[to]}");
        }
    }

    private static string Escape(string text) => text
        .Replace("#", "#35;", StringComparison.Ordinal)
        .Replace("\"", "#quot;", StringComparison.Ordinal)
        .Replace("<", "#lt;", StringComparison.Ordinal)
        .Replace(">", "#gt;", StringComparison.Ordinal)
        .Replace("|", "#124;", StringComparison.Ordinal);

    /// <summary>Mermaid node ids: letters, digits and underscores only, stable per name.</summary>
    private sealed class Ids
    {
        private readonly Dictionary<string, string> ids = new(StringComparer.Ordinal);

        public string Segment(string name) => Id("seg:" + name, "seg");

        public string Source(string name) => Id("src:" + name, "src");

        public string Route(string segment, string route) => Id($"route:{segment}/{route}", "route");

        private string Id(string key, string prefix)
        {
            if (!ids.TryGetValue(key, out var id))
            {
                id = prefix + ids.Count.ToString(CultureInfo.InvariantCulture);
                ids[key] = id;
            }

            return id;
        }
    }
}
