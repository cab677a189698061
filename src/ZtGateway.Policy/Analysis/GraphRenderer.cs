using System.Text;
using System.Text.Json;
using ZtGateway.Policy.Engine;
using ZtGateway.Policy.Loading;

namespace ZtGateway.Policy.Analysis;

/// <summary>Output formats of <c>ztgw graph</c>.</summary>
public enum GraphFormat
{
    /// <summary>An indented listing for people.</summary>
    Text,

    /// <summary>A Mermaid flowchart (renders in Markdown on most forges).</summary>
    Mermaid,

    /// <summary>Graphviz DOT.</summary>
    Dot,

    /// <summary>JSON for machines.</summary>
    Json,
}

/// <summary>Writes a <see cref="ReachabilityGraph"/> or a <see cref="BlastRadiusReport"/> in one of the <see cref="GraphFormat"/>s.</summary>
public static class GraphRenderer
{
    private const string AnySource = "*";

    /// <summary>Writes <paramref name="graph"/> as <paramref name="format"/>.</summary>
    public static void Render(ReachabilityGraph graph, GraphFormat format, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(output);
        switch (format)
        {
            case GraphFormat.Mermaid:
                GraphMermaid(graph, output);
                break;
            case GraphFormat.Dot:
                GraphDot(graph, output);
                break;
            case GraphFormat.Json:
                GraphJson(graph, output);
                break;
            default:
                GraphText(graph, output);
                break;
        }
    }

    /// <summary>Writes <paramref name="report"/> as <paramref name="format"/>.</summary>
    public static void Render(BlastRadiusReport report, GraphFormat format, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(output);
        switch (format)
        {
            case GraphFormat.Mermaid:
                BlastDiagram(report, output, mermaid: true);
                break;
            case GraphFormat.Dot:
                BlastDiagram(report, output, mermaid: false);
                break;
            case GraphFormat.Json:
                BlastJson(report, output);
                break;
            default:
                BlastText(report, output);
                break;
        }
    }

    private static string GrantLabel(AccessGrant grant)
    {
        var requirements = Text.Requirements(grant.Requirements);
        var label = $"{Text.Principals(grant)} · {Text.Methods(grant.Methods)} · rule {grant.Rule}";
        label = requirements.Length == 0 ? label : $"{label} · {requirements}";
        return grant.Blocked is { } blocked ? $"{label} · dead: {blocked.ToCode()}" : label;
    }

    private static void GraphText(ReachabilityGraph graph, TextWriter output)
    {
        var routes = graph.Segments.Sum(s => s.Routes.Count);
        output.WriteLine($"Reachability as of {Text.Instant(graph.At)}: {graph.Segments.Count} segments, {routes} routes, {graph.Grants.Count} allow rules");
        foreach (var segment in graph.Segments)
        {
            output.WriteLine();
            output.WriteLine(segment.Description is null ? segment.Name : $"{segment.Name}: {segment.Description}");
            output.WriteLine($"  members: workloads {Text.List(segment.Workloads)}, networks {Text.List(segment.Networks.Select(n => n.ToString()))}");
            foreach (var route in segment.Routes)
            {
                var identity = route.ServiceIdentity is null ? string.Empty : $" (calls others as {route.ServiceIdentity})";
                output.WriteLine($"  route {route.Id}: {Text.Methods(route.Methods)} {route.Path} -> service {route.Service}{identity}");
                foreach (var grant in graph.Grants.Where(g => g.DestinationSegment == segment.Name && ReferenceEquals(g.Route, route)))
                {
                    var requirements = Text.Requirements(grant.Requirements);
                    var line = $"    allow {grant.Rule}: from {Text.List(grant.From)}, {Text.Principals(grant)}, methods {Text.Methods(grant.Methods)}";
                    line += requirements.Length == 0 ? string.Empty : $"; {requirements}";
                    line += grant.Blocked is { } blocked ? $"  [dead: the engine refuses every such request: {blocked.ToCode()}]" : string.Empty;
                    output.WriteLine(line);
                }

                foreach (var deny in route.Deny)
                {
                    var from = deny.From.Count == 0 ? "every source" : "from " + Text.List(deny.From);
                    output.WriteLine($"    deny {deny.Rule}: {from}, {string.Join(", ", deny.Principals)}");
                }
            }
        }
    }

    private static void GraphMermaid(ReachabilityGraph graph, TextWriter output)
    {
        var ids = new Ids();
        output.WriteLine("flowchart LR");
        foreach (var segment in graph.Segments)
        {
            output.WriteLine($"  subgraph {ids.Segment(segment.Name)}[\"{Mermaid(segment.Name)}\"]");
            output.WriteLine($"    {ids.Source(segment.Name)}([\"callers in {Mermaid(segment.Name)}\"])");
            foreach (var route in segment.Routes)
            {
                var denies = route.Deny.Count == 0 ? string.Empty : "<br/>deny: " + Mermaid(string.Join(", ", route.Deny.Select(d => d.Rule)));
                output.WriteLine($"    {ids.Route(segment.Name, route.Id)}[\"{Mermaid(route.Id)}<br/>{Mermaid(Text.Methods(route.Methods))} {Mermaid(route.Path)}{denies}\"]");
            }

            output.WriteLine("  end");
        }

        foreach (var source in ExtraSources(graph))
        {
            output.WriteLine($"  {ids.Source(source)}([\"{Mermaid(SourceLabel(source))}\"])");
        }

        foreach (var grant in graph.Grants)
        {
            var arrow = grant.Blocked is null ? "-->" : "-.->";
            foreach (var source in grant.From)
            {
                output.WriteLine($"  {ids.Source(source)} {arrow}|\"{Mermaid(GrantLabel(grant))}\"| {ids.Route(grant.DestinationSegment, grant.Route.Id)}");
            }
        }
    }

    private static void GraphDot(ReachabilityGraph graph, TextWriter output)
    {
        output.WriteLine("digraph ztgw {");
        output.WriteLine("  rankdir=LR;");
        output.WriteLine("  node [shape=box, fontname=\"Helvetica\"];");
        output.WriteLine("  edge [fontname=\"Helvetica\", fontsize=10];");
        foreach (var segment in graph.Segments)
        {
            output.WriteLine($"  subgraph {Dot("cluster_" + segment.Name)} {{");
            output.WriteLine($"    label={Dot(segment.Name)};");
            output.WriteLine($"    {Dot("src:" + segment.Name)} [label={Dot("callers in " + segment.Name)}, shape=ellipse];");
            foreach (var route in segment.Routes)
            {
                var denies = route.Deny.Count == 0 ? string.Empty : "\ndeny: " + string.Join(", ", route.Deny.Select(d => d.Rule));
                output.WriteLine($"    {Dot($"route:{segment.Name}/{route.Id}")} [label={Dot($"{route.Id}\n{Text.Methods(route.Methods)} {route.Path}{denies}")}];");
            }

            output.WriteLine("  }");
        }

        foreach (var source in ExtraSources(graph))
        {
            output.WriteLine($"  {Dot("src:" + source)} [label={Dot(SourceLabel(source))}, shape=ellipse];");
        }

        foreach (var grant in graph.Grants)
        {
            var style = grant.Blocked is null ? string.Empty : ", style=dashed";
            foreach (var source in grant.From)
            {
                output.WriteLine($"  {Dot("src:" + source)} -> {Dot($"route:{grant.DestinationSegment}/{grant.Route.Id}")} [label={Dot(GrantLabel(grant))}{style}];");
            }
        }

        output.WriteLine("}");
    }

    private static void GraphJson(ReachabilityGraph graph, TextWriter output)
    {
        WriteJson(output, json =>
        {
            json.WriteStartObject();
            json.WriteString("at", Text.Instant(graph.At));
            json.WriteStartArray("segments");
            foreach (var segment in graph.Segments)
            {
                json.WriteStartObject();
                json.WriteString("name", segment.Name);
                json.WriteString("description", segment.Description);
                Strings(json, "workloads", segment.Workloads);
                Strings(json, "networks", segment.Networks.Select(n => n.ToString()));
                json.WriteStartArray("routes");
                foreach (var route in segment.Routes)
                {
                    Route(json, route);
                }

                json.WriteEndArray();
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteStartArray("grants");
            foreach (var grant in graph.Grants)
            {
                json.WriteStartObject();
                json.WriteString("destination", grant.DestinationSegment);
                json.WriteString("route", grant.Route.Id);
                json.WriteString("rule", grant.Rule);
                Strings(json, "from", grant.From);
                json.WriteString("principalKind", grant.PrincipalKind == PrincipalKind.User ? "user" : "workload");
                if (grant.Users is { } users)
                {
                    json.WriteStartObject("users");
                    Strings(json, "groups", users.Groups);
                    Strings(json, "roles", users.Roles);
                    Strings(json, "subjects", users.Subjects);
                    json.WriteEndObject();
                }
                else
                {
                    Strings(json, "workloads", grant.Workloads);
                }

                Strings(json, "methods", grant.Methods);
                Requirements(json, grant.Requirements);
                json.WriteBoolean("live", grant.Blocked is null);
                json.WriteString("blocked", grant.Blocked?.ToCode());
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        });
    }

    private static void BlastText(BlastRadiusReport report, TextWriter output)
    {
        var segments = report.Paths.Select(p => p.Target.DestinationSegment).Distinct(StringComparer.Ordinal).Count();
        output.WriteLine($"Blast radius of {report.Start} as of {Text.Instant(report.At)}: " +
            $"{report.Paths.Count} route{(report.Paths.Count == 1 ? "" : "s")} in {segments} segment{(segments == 1 ? "" : "s")}" +
            (report.PivotWorkloads.Count == 0 ? string.Empty : $", workload identities taken over on the way: {Text.List(report.PivotWorkloads)}"));
        if (report.Paths.Count == 0)
        {
            output.WriteLine("Nothing is reachable.");
            return;
        }

        foreach (var path in report.Paths)
        {
            var target = path.Target;
            output.WriteLine();
            output.WriteLine($"{target.DestinationSegment}/{target.Route.Id}: {HopMethods(target)} {target.Route.Path} (service {target.Route.Service})" +
                (path.Hops.Count > 1 ? $", {path.Hops.Count} hops" : ", directly"));
            for (var i = 0; i < path.Hops.Count; i++)
            {
                var hop = path.Hops[i];
                output.WriteLine($"  {i + 1}. {hop.Actor} (placed in {hop.SourceSegment}) -> {hop.DestinationSegment}/{hop.Route.Id} " +
                    $"{HopMethods(hop)} by rule {string.Join(", ", hop.Rules)}");
                if (i < path.Hops.Count - 1)
                {
                    output.WriteLine($"     service {hop.Route.Service} runs as {hop.Route.ServiceIdentity}");
                }
            }
        }
    }

    private static void BlastDiagram(BlastRadiusReport report, TextWriter output, bool mermaid)
    {
        // Nodes: the compromise, every route reached, every workload taken over; edges: the hops and the take-overs.
        var nodes = new List<(string Id, string Label, bool Round)>();
        var edges = new List<(string From, string To, string Label, bool Dotted)>();
        var known = new HashSet<string>(StringComparer.Ordinal);
        void Node(string id, string label, bool round)
        {
            if (known.Add(id))
            {
                nodes.Add((id, label, round));
            }
        }

        void Edge(string from, string to, string label, bool dotted)
        {
            if (!edges.Contains((from, to, label, dotted)))
            {
                edges.Add((from, to, label, dotted));
            }
        }

        const string Start = "start";
        Node(Start, "compromised: " + report.Start, round: true);
        foreach (var path in report.Paths)
        {
            var from = Start;
            foreach (var hop in path.Hops)
            {
                var route = $"route:{hop.DestinationSegment}/{hop.Route.Id}";
                Node(route, $"{hop.DestinationSegment}/{hop.Route.Id}\n{HopMethods(hop)} {hop.Route.Path}", round: false);
                Edge(from, route, $"{hop.Actor} · rule {string.Join(", ", hop.Rules)}", dotted: false);
                if (hop.Route.ServiceIdentity is { } identity && !ReferenceEquals(hop, path.Target))
                {
                    var workload = "workload:" + identity;
                    Node(workload, "workload " + identity, round: true);
                    Edge(route, workload, "runs as", dotted: true);
                    from = workload;
                }
            }
        }

        var ids = nodes.Select((n, i) => (n.Id, Short: "n" + i.ToString(System.Globalization.CultureInfo.InvariantCulture))).ToDictionary(p => p.Id, p => p.Short, StringComparer.Ordinal);
        if (mermaid)
        {
            output.WriteLine("flowchart LR");
            foreach (var (id, label, round) in nodes)
            {
                var text = Mermaid(label).Replace("\n", "<br/>", StringComparison.Ordinal);
                output.WriteLine(round ? $"  {ids[id]}([\"{text}\"])" : $"  {ids[id]}[\"{text}\"]");
            }

            foreach (var (from, to, label, dotted) in edges)
            {
                output.WriteLine($"  {ids[from]} {(dotted ? "-.->" : "-->")}|\"{Mermaid(label)}\"| {ids[to]}");
            }

            return;
        }

        output.WriteLine("digraph blast_radius {");
        output.WriteLine("  rankdir=LR;");
        output.WriteLine("  node [shape=box, fontname=\"Helvetica\"];");
        output.WriteLine("  edge [fontname=\"Helvetica\", fontsize=10];");
        foreach (var (id, label, round) in nodes)
        {
            output.WriteLine($"  {Dot(id)} [label={Dot(label)}{(round ? ", shape=ellipse" : string.Empty)}];");
        }

        foreach (var (from, to, label, dotted) in edges)
        {
            output.WriteLine($"  {Dot(from)} -> {Dot(to)} [label={Dot(label)}{(dotted ? ", style=dashed" : string.Empty)}];");
        }

        output.WriteLine("}");
    }

    private static void BlastJson(BlastRadiusReport report, TextWriter output)
    {
        WriteJson(output, json =>
        {
            json.WriteStartObject();
            json.WriteString("compromised", report.Start.ToString());
            json.WriteString("at", Text.Instant(report.At));
            Strings(json, "pivotWorkloads", report.PivotWorkloads);
            json.WriteStartArray("paths");
            foreach (var path in report.Paths)
            {
                json.WriteStartObject();
                json.WriteString("segment", path.Target.DestinationSegment);
                json.WriteString("route", path.Target.Route.Id);
                json.WriteStartArray("hops");
                foreach (var hop in path.Hops)
                {
                    json.WriteStartObject();
                    json.WriteString("actor", hop.Actor);
                    json.WriteString("source", hop.SourceSegment);
                    json.WriteString("destination", hop.DestinationSegment);
                    json.WriteString("route", hop.Route.Id);
                    json.WriteString("path", hop.Route.Path);
                    Strings(json, "methods", hop.Methods);
                    json.WriteBoolean("anyMethod", hop.AnyMethod);
                    Strings(json, "rules", hop.Rules);
                    json.WriteString("service", hop.Route.Service);
                    json.WriteString("serviceIdentity", hop.Route.ServiceIdentity);
                    json.WriteEndObject();
                }

                json.WriteEndArray();
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        });
    }

    private static string HopMethods(BlastHop hop) => hop.AnyMethod ? "*" : string.Join(',', hop.Methods);

    private static void Route(Utf8JsonWriter json, RouteNode route)
    {
        json.WriteStartObject();
        json.WriteString("id", route.Id);
        json.WriteString("path", route.Path);
        Strings(json, "methods", route.Methods);
        json.WriteString("service", route.Service);
        json.WriteString("serviceIdentity", route.ServiceIdentity);
        json.WriteStartArray("deny");
        foreach (var deny in route.Deny)
        {
            json.WriteStartObject();
            json.WriteString("rule", deny.Rule);
            Strings(json, "from", deny.From);
            Strings(json, "principals", deny.Principals);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    /// <summary>Writes a <c>requirements</c> object.</summary>
    internal static void Requirements(Utf8JsonWriter json, AccessRequirements requirements)
    {
        json.WriteStartObject("requirements");
        json.WriteString("mfa", requirements.Mfa switch
        {
            Configuration.MfaRequirement.Required => "required",
            Configuration.MfaRequirement.Optional => "optional",
            _ => null,
        });
        json.WriteString("maxAuthAge", requirements.MaxAuthAge is { } age ? Durations.Format(age) : null);
        Strings(json, "acr", requirements.Acr);
        if (requirements.Device is { } device)
        {
            json.WriteStartObject("device");
            json.WriteBoolean("required", device.Required);
            json.WriteBoolean("compliant", device.Compliant);
            json.WriteBoolean("managed", device.Managed);
            json.WriteString("maxRisk", device.MaxRisk is { } risk ? Text.Risk(risk) : null);
            json.WriteEndObject();
        }
        else
        {
            json.WriteNull("device");
        }

        Strings(json, "networks", requirements.Networks.Select(n => n.ToString()));
        json.WriteString("until", requirements.Until is { } until ? Text.Instant(until) : null);
        json.WriteEndObject();
    }

    /// <summary>Writes a string array property.</summary>
    internal static void Strings(Utf8JsonWriter json, string name, IEnumerable<string> values)
    {
        json.WriteStartArray(name);
        foreach (var value in values)
        {
            json.WriteStringValue(value);
        }

        json.WriteEndArray();
    }

    /// <summary>Writes one indented JSON document and a newline.</summary>
    internal static void WriteJson(TextWriter output, Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            write(json);
        }

        output.WriteLine(Encoding.UTF8.GetString(buffer.ToArray()));
    }

    // Sources named by from that are not segments of the policy: "*" and "unknown".
    private static IEnumerable<string> ExtraSources(ReachabilityGraph graph)
    {
        var segments = graph.Segments.Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
        return graph.Grants.SelectMany(g => g.From).Where(f => !segments.Contains(f)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
    }

    private static string SourceLabel(string source) => source == AnySource ? "any segment" : source;

    private static string Mermaid(string text) => text
        .Replace("#", "#35;", StringComparison.Ordinal)
        .Replace("\"", "#quot;", StringComparison.Ordinal)
        .Replace("<", "#lt;", StringComparison.Ordinal)
        .Replace(">", "#gt;", StringComparison.Ordinal)
        .Replace("|", "#124;", StringComparison.Ordinal);

    private static string Dot(string text) =>
        "\"" + text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal) + "\"";

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
                id = prefix + ids.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
                ids[key] = id;
            }

            return id;
        }
    }
}
