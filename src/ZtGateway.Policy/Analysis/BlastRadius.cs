using ZtGateway.Policy.Engine;

namespace ZtGateway.Policy.Analysis;

/// <summary>What was compromised.</summary>
public enum CompromiseKind
{
    /// <summary>A workload: its credentials, calling from where it runs.</summary>
    Workload,

    /// <summary>A device in a segment: whoever signs in on it, with a healthy posture assertion for that segment.</summary>
    DeviceSegment,

    /// <summary>A person's session: their token with fresh multi-factor, on a healthy device of any segment.</summary>
    User,
}

/// <summary>The starting point of a blast-radius analysis: <c>workload:ID</c>, <c>device-segment:NAME</c> or <c>user:SUB[,GROUP...][,role=ROLE...]</c>.</summary>
public sealed record Compromise
{
    /// <summary>What was compromised.</summary>
    public required CompromiseKind Kind { get; init; }

    /// <summary>The workload id, the segment name or the user's <c>sub</c>.</summary>
    public required string Name { get; init; }

    /// <summary>The user's groups (user only).</summary>
    public IReadOnlyList<string> Groups { get; init; } = [];

    /// <summary>The user's roles (user only).</summary>
    public IReadOnlyList<string> Roles { get; init; } = [];

    /// <summary>Parses <c>workload:ID</c>, <c>device-segment:NAME</c> or <c>user:SUB[,GROUP...][,role=ROLE...]</c>.</summary>
    public static bool TryParse(string text, out Compromise? compromise, out string? error)
    {
        ArgumentNullException.ThrowIfNull(text);
        compromise = null;
        error = null;
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        var kind = colon < 0 ? string.Empty : text[..colon];
        var value = colon < 0 ? string.Empty : text[(colon + 1)..].Trim();
        if (value.Length == 0)
        {
            error = $"'{text}' must be workload:ID, device-segment:NAME or user:SUB[,GROUP...][,role=ROLE...]";
            return false;
        }

        switch (kind)
        {
            case "workload":
                compromise = new Compromise { Kind = CompromiseKind.Workload, Name = value };
                return true;
            case "device-segment":
                compromise = new Compromise { Kind = CompromiseKind.DeviceSegment, Name = value };
                return true;
            case "user":
                var parts = value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
                const string RolePrefix = "role=";
                compromise = new Compromise
                {
                    Kind = CompromiseKind.User,
                    Name = parts[0],
                    Groups = [.. parts.Skip(1).Where(p => !p.StartsWith(RolePrefix, StringComparison.Ordinal))],
                    Roles = [.. parts.Skip(1).Where(p => p.StartsWith(RolePrefix, StringComparison.Ordinal)).Select(p => p[RolePrefix.Length..])],
                };
                return true;
            default:
                error = $"'{text}' must start with workload:, device-segment: or user:";
                return false;
        }
    }

    /// <inheritdoc/>
    public override string ToString() => Kind switch
    {
        CompromiseKind.Workload => "workload:" + Name,
        CompromiseKind.DeviceSegment => "device-segment:" + Name,
        _ => "user:" + string.Join(',', new[] { Name }.Concat(Groups).Concat(Roles.Select(r => "role=" + r))),
    };
}

/// <summary>One call on a breach path: who calls, from where, which route lets them in.</summary>
public sealed record BlastHop
{
    /// <summary>Who makes the call, e.g. <c>workload spiffe://...</c>, <c>user alice</c>, <c>group hr-staff on a device of hr</c>.</summary>
    public required string Actor { get; init; }

    /// <summary>Where the engine placed the caller.</summary>
    public required string SourceSegment { get; init; }

    /// <summary>The segment that serves the route.</summary>
    public required string DestinationSegment { get; init; }

    /// <summary>The route reached.</summary>
    public required RouteNode Route { get; init; }

    /// <summary>The methods the engine allows.</summary>
    public required IReadOnlyList<string> Methods { get; init; }

    /// <summary>True when every method was allowed on a route that takes every method.</summary>
    public bool AnyMethod { get; init; }

    /// <summary>The rules that allowed, in the order found.</summary>
    public required IReadOnlyList<string> Rules { get; init; }
}

/// <summary>How the breach reaches one route, hop by hop; the last hop is the route reached.</summary>
public sealed record BlastPath(IReadOnlyList<BlastHop> Hops)
{
    /// <summary>The hop that reaches the route.</summary>
    public BlastHop Target => Hops[^1];
}

/// <summary>Everything a compromise reaches.</summary>
public sealed record BlastRadiusReport
{
    /// <summary>What was compromised.</summary>
    public required Compromise Start { get; init; }

    /// <summary>One path per reachable route, shortest first.</summary>
    public required IReadOnlyList<BlastPath> Paths { get; init; }

    /// <summary>Workload identities taken over on the way (services reached whose <c>identity</c> is set).</summary>
    public required IReadOnlyList<string> PivotWorkloads { get; init; }

    /// <summary>The instant the policy was judged at.</summary>
    public required DateTimeOffset At { get; init; }
}

/// <summary>
/// The blast radius of a compromise: every route the compromised principal can reach, and, since reaching a service
/// is taken to mean taking it over, every route its workload identity (<c>services.NAME.identity</c>) can reach in turn.
/// Each reachable route is the engine's answer to the most favourable request the attacker could send.
/// </summary>
public static class BlastRadius
{
    /// <summary>Follows <paramref name="start"/> through the policy <paramref name="engine"/> decides by.</summary>
    public static BlastRadiusReport Compute(PolicyEngine engine, Compromise start)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(start);
        var probe = new AccessProbe(engine);
        var routes = probe.Policy.Segments.Values
            .OrderBy(s => s.Name, StringComparer.Ordinal)
            .SelectMany(s => s.Routes.Select(config =>
            {
                var table = probe.Compiled.Segments[s.Name];
                var route = table.Routes.First(r => ReferenceEquals(r.Config, config));
                return (Table: table, Route: route, Node: ReachabilityGraph.RouteNodeOf(s, route));
            }))
            .ToList();

        var pivots = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        if (start.Kind == CompromiseKind.Workload)
        {
            seen.Add(start.Name);
        }

        var reached = new HashSet<(string, string)>();
        var paths = new List<BlastPath>();
        var queue = new Queue<(Compromise Actor, IReadOnlyList<BlastHop> Prefix)>();
        queue.Enqueue((start, []));
        while (queue.TryDequeue(out var next))
        {
            foreach (var (table, route, node) in routes)
            {
                if (Reach(probe, next.Actor, table, route, node) is not { } hop)
                {
                    continue;
                }

                IReadOnlyList<BlastHop> path = [.. next.Prefix, hop];
                if (reached.Add((table.Name, route.Id)))
                {
                    paths.Add(new BlastPath(path));
                }

                if (node.ServiceIdentity is { } identity && seen.Add(identity))
                {
                    pivots.Add(identity);
                    queue.Enqueue((new Compromise { Kind = CompromiseKind.Workload, Name = identity }, path));
                }
            }
        }

        return new BlastRadiusReport { Start = start, Paths = paths, PivotWorkloads = pivots, At = probe.Now };
    }

    private static BlastHop? Reach(AccessProbe probe, Compromise actor, SegmentRouteTable table, CompiledRoute route, RouteNode node)
    {
        var methods = AccessProbe.MethodsOf(route);
        var allowed = new List<string>();
        var rules = new List<string>();
        string? source = null;
        string? label = null;
        foreach (var method in methods)
        {
            if (Attempt(probe, actor, table, route, method) is not ({ Allowed: true } decision, var who))
            {
                continue;
            }

            allowed.Add(method);
            source ??= decision.SourceSegment;
            label ??= who;
            if (!rules.Contains(decision.RuleName!, StringComparer.Ordinal))
            {
                rules.Add(decision.RuleName!);
            }
        }

        return allowed.Count == 0
            ? null
            : new BlastHop
            {
                Actor = label!,
                SourceSegment = source!,
                DestinationSegment = table.Name,
                Route = node,
                Methods = allowed,
                AnyMethod = node.Methods.Count == 0 && allowed.Count == methods.Count,
                Rules = rules,
            };
    }

    // The first allowed request the actor can make, with how the actor is described; else the last refusal.
    private static (Decision? Decision, string Actor) Attempt(AccessProbe probe, Compromise actor, SegmentRouteTable table, CompiledRoute route, string method)
    {
        switch (actor.Kind)
        {
            case CompromiseKind.Workload:
            {
                // The attacker calls from where the workload runs; a workload no segment lists could run anywhere.
                var home = probe.HomeNetworks(actor.Name).ToList();
                var request = AccessProbe.Request(method, AccessProbe.Workload(actor.Name), null);
                var decision = probe.Ask(table, route, request, AccessProbe.Addresses(route, home.Count > 0 ? home : probe.AllNetworks()));
                return (decision, "workload " + actor.Name);
            }

            case CompromiseKind.DeviceSegment:
            {
                // Anyone who signs in on the device: the people the route's user rules name.
                Decision? last = null;
                foreach (var rule in route.Allow.Where(r => r.PrincipalKind == PrincipalKind.User))
                {
                    foreach (var item in PrincipalItem.Of(rule.Config))
                    {
                        last = probe.AskGrant(table, route, rule, item, actor.Name, method);
                        if (last is { Allowed: true })
                        {
                            return (last, $"{item} on a device of {actor.Name}");
                        }
                    }
                }

                return (last, string.Empty);
            }

            default:
            {
                // The person's session, on a healthy device of any segment or on none, holding any acr a rule asks for.
                var acrs = route.Allow.SelectMany(r => r.AcrValues).Distinct(StringComparer.Ordinal).Cast<string?>().Prepend(null);
                var devices = probe.Policy.Segments.Keys.Order(StringComparer.Ordinal).Append(SourceSegments.Unknown)
                    .Select(AccessProbe.HealthyDevice).Cast<DevicePosture?>().Append(null).ToList();
                Decision? last = null;
                foreach (var acr in acrs)
                {
                    var user = probe.FreshUser(actor.Name, actor.Groups, actor.Roles, acr);
                    foreach (var device in devices)
                    {
                        var addresses = AccessProbe.Addresses(route, device is null ? probe.AllNetworks() : []);
                        last = probe.Ask(table, route, AccessProbe.Request(method, user, device), addresses);
                        if (last is { Allowed: true })
                        {
                            return (last, "user " + actor.Name);
                        }
                    }
                }

                return (last, string.Empty);
            }
        }
    }
}
