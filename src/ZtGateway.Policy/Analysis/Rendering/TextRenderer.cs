using ZtGateway.Policy.Engine;

namespace ZtGateway.Policy.Analysis.Rendering;

/// <summary>Indented listings for people: the reachability graph, the blast radius, the policy diff and explain.</summary>
internal static class TextRenderer
{
    /// <summary>A header line, then per segment its members, routes and each route's allow and deny rules.</summary>
    public static void Graph(ReachabilityGraph graph, TextWriter output)
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

    /// <summary>A summary line, then every route reached, hop by hop.</summary>
    public static void BlastRadius(BlastRadiusReport report, TextWriter output)
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
            output.WriteLine($"{target.DestinationSegment}/{target.Route.Id}: {Labels.Methods(target)} {target.Route.Path} (service {target.Route.Service})" +
                (path.Hops.Count > 1 ? $", {path.Hops.Count} hops" : ", directly"));
            for (var i = 0; i < path.Hops.Count; i++)
            {
                var hop = path.Hops[i];
                output.WriteLine($"  {i + 1}. {hop.Actor} (placed in {hop.SourceSegment}) -> {hop.DestinationSegment}/{hop.Route.Id} " +
                    $"{Labels.Methods(hop)} by rule {string.Join(", ", hop.Rules)}");
                if (i < path.Hops.Count - 1)
                {
                    output.WriteLine($"     service {hop.Route.Service} runs as {hop.Route.ServiceIdentity}");
                }
            }
        }
    }

    /// <summary>Grouped by segment pair, one line per change, then a summary.</summary>
    public static void Diff(PolicyDiffReport report, TextWriter output)
    {
        string? pair = null;
        foreach (var change in report.Changes)
        {
            var current = $"{change.SourceSegment} -> {change.DestinationSegment}";
            if (current != pair)
            {
                output.WriteLine(current);
                pair = current;
            }

            output.WriteLine($"  {Labels.Verb(change.Kind),-9} {Change(change)}");
        }

        output.WriteLine(report.Changes.Count == 0 ? "No access path changed." : Summary(report));
    }

    /// <summary>
    /// One change on one line, without its segment pair, as <see cref="Diff"/> writes it after its verb:
    /// <c>GET /payroll/{id} (route payroll-read, rule hr-staff) for group hr-staff: MFA made optional</c>.
    /// </summary>
    public static string Change(AccessChange change)
    {
        var details = change.Details.Count == 0 ? string.Empty : ": " + string.Join("; ", change.Details);
        var rule = change.Rule is null ? string.Empty : $", rule {change.Rule}";
        return $"{Labels.Methods(change)} {change.Path} (route {change.RouteId}{rule}) for {change.Principal}{details}";
    }

    /// <summary>The decision, what the verifiers said, then why each rule of the route did or did not apply.</summary>
    public static void Explain(ExplainReport report, TextWriter output)
    {
        var explanation = report.Explanation;
        var context = report.Request;
        var decision = explanation.Decision;
        output.WriteLine($"decision  {(decision.Allowed ? "allow" : "deny")}");
        output.WriteLine($"reason    {decision.Reason.ToCode()}");
        var source = decision.SourceSegment.Length == 0 ? "(not placed)" : decision.SourceSegment;
        output.WriteLine($"segments  {source} -> {decision.DestinationSegment}");
        output.WriteLine($"route     {(decision.RouteId is null ? "none" : $"{decision.RouteId} (service {decision.Service})")}");
        output.WriteLine($"rule      {decision.RuleName ?? "none"}");
        if (decision.Reason.IsStepUp())
        {
            // max_age in seconds, as the step-up challenge carries it.
            var maxAge = decision.MaxAuthAge is { } age ? $", max_age {(long)age.TotalSeconds}s" : string.Empty;
            output.WriteLine($"step-up   acr_values [{string.Join(", ", decision.AcrValues)}]{maxAge}");
        }

        if (report.TokenDetail is not null)
        {
            output.WriteLine($"token     {Labels.Status(context.Token)} ({report.TokenDetail})");
        }

        if (report.DeviceDetail is not null)
        {
            output.WriteLine($"device    {Labels.Status(context.DeviceStatus)} ({report.DeviceDetail})");
        }

        if (decision.RouteId is null)
        {
            output.WriteLine($"rules     no route of segment {decision.DestinationSegment} takes {context.Method} {context.Path}");
            return;
        }

        if (explanation.Rules.Count == 0)
        {
            output.WriteLine($"rules     not looked at: the request was refused before the rules of route {decision.RouteId}");
            return;
        }

        output.WriteLine($"rules of route {decision.RouteId}:");
        var width = explanation.Rules.Max(r => r.Rule.Length);
        foreach (var rule in explanation.Rules)
        {
            output.WriteLine($"  {(rule.IsDeny ? "deny " : "allow")} {rule.Rule.PadRight(width)}  {Verdict(rule)}: {rule.Detail}");
        }
    }

    private static string Summary(PolicyDiffReport report)
    {
        int Count(AccessChangeKind kind) => report.Changes.Count(c => c.Kind == kind);
        return $"{Count(AccessChangeKind.Opened)} opened, {Count(AccessChangeKind.Weakened)} weakened, " +
            $"{Count(AccessChangeKind.Closed)} closed, {Count(AccessChangeKind.Tightened)} tightened";
    }

    private static string Verdict(RuleTrace rule) => rule switch
    {
        { Applies: false } => "does not apply",
        { IsDeny: true } => "applies",
        { Outcome: ReasonCode.Allowed } => "allows",
        { Outcome: { } failed } => "applies, " + failed.ToCode(),
        _ => "applies",
    };
}
