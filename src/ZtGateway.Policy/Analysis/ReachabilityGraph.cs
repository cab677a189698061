using System.Net;
using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Engine;

namespace ZtGateway.Policy.Analysis;

/// <summary>What an allow rule asks of a caller once it applies, with the segment's defaults filled in.</summary>
public sealed record AccessRequirements
{
    /// <summary>Multi-factor authentication; null for workload rules, which ask nothing of a login.</summary>
    public MfaRequirement? Mfa { get; init; }

    /// <summary>Longest time since the login; null for workload rules.</summary>
    public TimeSpan? MaxAuthAge { get; init; }

    /// <summary>Acceptable <c>acr</c> values; empty accepts any.</summary>
    public IReadOnlyList<string> Acr { get; init; } = [];

    /// <summary>The device requirement; null for workload rules.</summary>
    public DeviceRequirement? Device { get; init; }

    /// <summary>Client networks the rule is limited to; empty for any.</summary>
    public IReadOnlyList<IPNetwork> Networks { get; init; } = [];

    /// <summary>The end of a just-in-time grant; null when it does not end.</summary>
    public DateTimeOffset? Until { get; init; }

    /// <summary>The credential must be bound to the connection (<c>boundToken: true</c>).</summary>
    public bool BoundToken { get; init; }

    internal static AccessRequirements Of(CompiledRule rule) => new()
    {
        Mfa = rule.PrincipalKind == PrincipalKind.User ? rule.Mfa : null,
        MaxAuthAge = rule.PrincipalKind == PrincipalKind.User ? rule.MaxAuthAge : null,
        Acr = rule.AcrValues,
        Device = rule.PrincipalKind == PrincipalKind.User ? rule.Device : null,
        Networks = rule.Config.Networks ?? [],
        Until = rule.Until,
        BoundToken = rule.BoundToken,
    };
}

/// <summary>A deny rule of a route, as written.</summary>
/// <param name="Rule">The rule's name.</param>
/// <param name="From">Source segments it covers; empty for every source.</param>
/// <param name="Principals">What it names, e.g. <c>group contractors</c>.</param>
public sealed record DenyRuleNode(string Rule, IReadOnlyList<string> From, IReadOnlyList<string> Principals);

/// <summary>A route of a segment.</summary>
public sealed record RouteNode
{
    /// <summary>The route id.</summary>
    public required string Id { get; init; }

    /// <summary>The path template.</summary>
    public required string Path { get; init; }

    /// <summary>The route's methods; empty for every method.</summary>
    public IReadOnlyList<string> Methods { get; init; } = [];

    /// <summary>The service requests are forwarded to.</summary>
    public required string Service { get; init; }

    /// <summary>The workload identity the service calls others with, when the segment file says.</summary>
    public string? ServiceIdentity { get; init; }

    /// <summary>The route's deny rules.</summary>
    public IReadOnlyList<DenyRuleNode> Deny { get; init; } = [];
}

/// <summary>A segment: who it places there and what it serves.</summary>
public sealed record SegmentNode
{
    /// <summary>The segment name.</summary>
    public required string Name { get; init; }

    /// <summary>The segment's description.</summary>
    public string? Description { get; init; }

    /// <summary>Workloads that belong to it.</summary>
    public IReadOnlyList<string> Workloads { get; init; } = [];

    /// <summary>Networks that belong to it.</summary>
    public IReadOnlyList<IPNetwork> Networks { get; init; } = [];

    /// <summary>Its routes, in file order.</summary>
    public IReadOnlyList<RouteNode> Routes { get; init; } = [];
}

/// <summary>One allow rule of one route: who, from where, may reach it, and under which requirements.</summary>
public sealed record AccessGrant
{
    /// <summary>The segment that serves the route.</summary>
    public required string DestinationSegment { get; init; }

    /// <summary>The route.</summary>
    public required RouteNode Route { get; init; }

    /// <summary>The allow rule's name.</summary>
    public required string Rule { get; init; }

    /// <summary>Source segments as written (<c>*</c> for any, <c>unknown</c> for callers no segment places).</summary>
    public required IReadOnlyList<string> From { get; init; }

    /// <summary>Whether the rule names users or workloads.</summary>
    public required PrincipalKind PrincipalKind { get; init; }

    /// <summary>Users the rule names (user rules).</summary>
    public UserSelector? Users { get; init; }

    /// <summary>Workloads the rule names (workload rules).</summary>
    public IReadOnlyList<string> Workloads { get; init; } = [];

    /// <summary>Methods the grant covers: the rule's within the route's; empty for every method.</summary>
    public IReadOnlyList<string> Methods { get; init; } = [];

    /// <summary>What the rule asks once it applies.</summary>
    public required AccessRequirements Requirements { get; init; }

    /// <summary>
    /// Null when the engine allows at least one request this grant describes; otherwise why it refuses them all
    /// (<c>grant-expired</c>, <c>segment-not-allowed</c> for a workload that lives elsewhere, <c>denied-by-rule</c>,
    /// <c>route-not-found</c> when more specific routes take every request).
    /// </summary>
    public ReasonCode? Blocked { get; init; }
}

/// <summary>
/// The segment reachability graph: which source segments, people and workloads can reach which routes of which
/// segment, and with which requirements. Built from the compiled allow rules; whether each grant is live is the
/// engine's answer to a request that grant describes.
/// </summary>
public sealed record ReachabilityGraph
{
    /// <summary>The segments, by name.</summary>
    public required IReadOnlyList<SegmentNode> Segments { get; init; }

    /// <summary>Every allow rule of every route.</summary>
    public required IReadOnlyList<AccessGrant> Grants { get; init; }

    /// <summary>The instant the grants were judged at.</summary>
    public required DateTimeOffset At { get; init; }

    /// <summary>Builds the graph of the policy <paramref name="engine"/> decides by, as of the engine's clock.</summary>
    public static ReachabilityGraph Build(PolicyEngine engine)
    {
        ArgumentNullException.ThrowIfNull(engine);
        var probe = new AccessProbe(engine);
        var segments = new List<SegmentNode>();
        var grants = new List<AccessGrant>();
        foreach (var segment in engine.Policy.Segments.Values.OrderBy(s => s.Name, StringComparer.Ordinal))
        {
            var table = probe.Compiled.Segments[segment.Name];
            var routes = new List<RouteNode>();
            foreach (var config in segment.Routes)
            {
                var route = table.Routes.First(r => ReferenceEquals(r.Config, config));
                var node = RouteNodeOf(segment, route);
                routes.Add(node);
                foreach (var rule in route.Allow)
                {
                    grants.Add(new AccessGrant
                    {
                        DestinationSegment = segment.Name,
                        Route = node,
                        Rule = rule.Name,
                        From = rule.Config.From ?? [],
                        PrincipalKind = rule.PrincipalKind ?? PrincipalKind.User,
                        Users = rule.Config.Users,
                        Workloads = rule.Config.Workloads ?? [],
                        Methods = GrantMethods(route, rule),
                        Requirements = AccessRequirements.Of(rule),
                        Blocked = Judge(probe, table, route, rule),
                    });
                }
            }

            segments.Add(new SegmentNode
            {
                Name = segment.Name,
                Description = segment.Description,
                Workloads = segment.Members.Workloads,
                Networks = segment.Members.Networks,
                Routes = routes,
            });
        }

        return new ReachabilityGraph { Segments = segments, Grants = grants, At = probe.Now };
    }

    internal static RouteNode RouteNodeOf(SegmentConfig segment, CompiledRoute route) => new()
    {
        Id = route.Id,
        Path = route.Config.Match.Path,
        Methods = route.Config.Match.Methods,
        Service = route.Config.Service,
        ServiceIdentity = segment.Services.TryGetValue(route.Config.Service, out var service) ? service.Identity : null,
        Deny = [.. route.Deny.Select(d => new DenyRuleNode(
            d.Name,
            d.Config.From ?? [],
            [.. PrincipalItem.Of(d.Config).Select(i => i.ToString())]))],
    };

    /// <summary>The methods a rule covers on its route: the rule's list within the route's; empty for all.</summary>
    internal static IReadOnlyList<string> GrantMethods(CompiledRoute route, CompiledRule rule)
    {
        var routeMethods = route.Config.Match.Methods;
        if (rule.Config.Methods is not { } ruleMethods)
        {
            return routeMethods;
        }

        return routeMethods.Count == 0
            ? ruleMethods
            : [.. ruleMethods.Where(m => routeMethods.Contains(m, StringComparer.OrdinalIgnoreCase))];
    }

    /// <summary>Sources a rule's <c>from</c> stands for: the names written, or every segment and <c>unknown</c> for <c>*</c>.</summary>
    internal static IEnumerable<string> Sources(CompiledRule rule, IEnumerable<string> allSources) =>
        rule.FromAny ? allSources : (rule.Config.From ?? []).Where(f => f != SourceSegments.Any);

    // Asks the engine for the most favourable request of each source and principal the grant names; the first allow
    // settles it, otherwise the first refusal says why the grant is dead.
    private static ReasonCode? Judge(AccessProbe probe, SegmentRouteTable table, CompiledRoute route, CompiledRule rule)
    {
        var allSources = probe.Policy.Segments.Keys.Append(SourceSegments.Unknown);
        var methods = GrantMethods(route, rule);
        ReasonCode? first = null;
        foreach (var source in Sources(rule, allSources))
        {
            foreach (var item in PrincipalItem.Of(rule.Config))
            {
                foreach (var method in methods.Count > 0 ? methods : AccessProbe.MethodsOf(route))
                {
                    var decision = probe.AskGrant(table, route, rule, item, source, method);
                    if (decision is { Allowed: true })
                    {
                        return null;
                    }

                    first ??= decision?.Reason ?? ReasonCode.RouteNotFound;
                }
            }
        }

        return first ?? ReasonCode.NoMatchingRule;
    }
}
