using System.Net;
using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Engine;
using ZtGateway.Policy.Loading;

namespace ZtGateway.Policy.Analysis;

/// <summary>How a change affects one access path.</summary>
public enum AccessChangeKind
{
    /// <summary>Requests the old policy refused are now allowed.</summary>
    Opened,

    /// <summary>Still allowed, with a weaker requirement (MFA optional, device loosened, longer maxAuthAge, later until, bearer tokens, ...).</summary>
    Weakened,

    /// <summary>Requests the old policy allowed are now refused.</summary>
    Closed,

    /// <summary>Still allowed, with a stronger requirement.</summary>
    Tightened,
}

/// <summary>One access path a policy change opens, closes, weakens or tightens.</summary>
public sealed record AccessChange
{
    /// <summary>What changed.</summary>
    public required AccessChangeKind Kind { get; init; }

    /// <summary>Where the caller comes from (a segment or <c>unknown</c>).</summary>
    public required string SourceSegment { get; init; }

    /// <summary>The segment serving the route.</summary>
    public required string DestinationSegment { get; init; }

    /// <summary>The route id (the new one, or the old one for closed paths).</summary>
    public required string RouteId { get; init; }

    /// <summary>The route's path template.</summary>
    public required string Path { get; init; }

    /// <summary>The methods affected.</summary>
    public required IReadOnlyList<string> Methods { get; init; }

    /// <summary>True when the change covers every method of a route that takes every method.</summary>
    public bool AnyMethod { get; init; }

    /// <summary>Who: <c>group NAME</c>, <c>role NAME</c>, <c>user SUB</c> or <c>workload ID</c>.</summary>
    public required string Principal { get; init; }

    /// <summary>The rule behind the path (the new rule, or the old one for closed paths), when one is.</summary>
    public string? Rule { get; init; }

    /// <summary>What changed, e.g. <c>MFA made optional</c>; for opened and closed paths, empty or the deny rule involved.</summary>
    public IReadOnlyList<string> Details { get; init; } = [];
}

/// <summary>The outcome of comparing two policies.</summary>
public sealed record PolicyDiffReport
{
    /// <summary>Every change, grouped by source and destination segment.</summary>
    public required IReadOnlyList<AccessChange> Changes { get; init; }

    /// <summary>True when the change opens an access path or weakens a requirement: a CI gate should stop it for review.</summary>
    public bool Opens => Changes.Any(c => c.Kind is AccessChangeKind.Opened or AccessChangeKind.Weakened);
}

/// <summary>
/// Compares the access two policies grant. Every allow rule of both is broken into access paths (source segment,
/// destination route, method, one named group, role, subject or workload); whether a path is open in a policy is that
/// policy's engine's answer to the most favourable request on it, so deny rules, grant expiry, workload placement and
/// route shadowing all count. For paths open in both, the rules' requirements are compared (where several rules grant
/// the same path, the weakest value of each requirement counts). Deny rules added or removed on a route present in both
/// are reported too.
/// </summary>
public static class PolicyDiff
{
    /// <summary>Compares <paramref name="before"/> with <paramref name="after"/>, both as of their engines' clocks.</summary>
    public static PolicyDiffReport Compare(PolicyEngine before, PolicyEngine after)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        var old = new Side(new AccessProbe(before));
        var now = new Side(new AccessProbe(after));
        var sources = before.Policy.Segments.Keys.Concat(after.Policy.Segments.Keys)
            .Append(SourceSegments.Unknown).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var methods = AccessProbe.StandardMethods.Concat(NamedMethods(before.Policy)).Concat(NamedMethods(after.Policy))
            .Select(m => m.ToUpperInvariant()).Distinct(StringComparer.Ordinal).ToList();
        old.Collect(sources, methods);
        now.Collect(sources, methods);

        var atoms = new List<(AccessChangeKind Kind, Key Key, Grant Grant, IReadOnlyList<string> Details)>();
        foreach (var key in old.Grants.Keys.Union(now.Grants.Keys).Order())
        {
            old.Grants.TryGetValue(key, out var was);
            now.Grants.TryGetValue(key, out var @is);
            var openBefore = old.IsOpen(key, was ?? @is!);
            var openAfter = now.IsOpen(key, @is ?? was!);
            if (openAfter && !openBefore)
            {
                atoms.Add((AccessChangeKind.Opened, key, (@is ?? was)!, []));
            }
            else if (openBefore && !openAfter)
            {
                atoms.Add((AccessChangeKind.Closed, key, (was ?? @is)!, []));
            }
            else if (openBefore && was is not null && @is is not null)
            {
                var (weaker, stronger) = Requirements(was.Requirements, @is.Requirements);
                if (weaker.Count > 0)
                {
                    atoms.Add((AccessChangeKind.Weakened, key, @is, weaker));
                }

                if (stronger.Count > 0)
                {
                    atoms.Add((AccessChangeKind.Tightened, key, @is, stronger));
                }
            }
        }

        foreach (var key in old.Denies.Keys.Union(now.Denies.Keys).Order())
        {
            var hadDeny = old.Denies.TryGetValue(key, out var was);
            var hasDeny = now.Denies.TryGetValue(key, out var @is);
            if (hadDeny == hasDeny || !old.HasRoute(key) || !now.HasRoute(key))
            {
                continue;
            }

            atoms.Add(hadDeny
                ? (AccessChangeKind.Opened, key, was!, [$"deny rule '{was!.Rule}' removed"])
                : (AccessChangeKind.Closed, key, @is!, [$"deny rule '{@is!.Rule}' added"]));
        }

        return new PolicyDiffReport { Changes = Group(atoms, methods) };
    }

    private static IEnumerable<string> NamedMethods(PolicySet policy) =>
        policy.Segments.Values.SelectMany(s => s.Routes).SelectMany(r =>
            r.Match.Methods.Concat(r.Allow.Concat(r.Deny).SelectMany(rule => rule.Methods ?? [])));

    // Methods are folded back together: one line per source, route, principal and change.
    private static List<AccessChange> Group(
        List<(AccessChangeKind Kind, Key Key, Grant Grant, IReadOnlyList<string> Details)> atoms, IReadOnlyList<string> universe)
    {
        return [.. atoms
            .GroupBy(a => (a.Kind, a.Key.Source, a.Key.Destination, a.Key.PathKey, a.Key.Principal, a.Grant.RouteId, a.Grant.Rule, Details: string.Join("\n", a.Details)))
            .Select(g =>
            {
                var first = g.First();
                var methods = g.Select(a => a.Key.Method).Distinct(StringComparer.Ordinal).ToList();
                return new AccessChange
                {
                    Kind = g.Key.Kind,
                    SourceSegment = g.Key.Source,
                    DestinationSegment = g.Key.Destination,
                    RouteId = first.Grant.RouteId,
                    Path = first.Grant.Path,
                    Methods = methods,
                    AnyMethod = first.Grant.RouteTakesAnyMethod && universe.All(m => methods.Contains(m, StringComparer.Ordinal)),
                    Principal = g.Key.Principal.ToString(),
                    Rule = first.Grant.Rule,
                    Details = first.Details,
                };
            })
            .OrderBy(c => c.SourceSegment, StringComparer.Ordinal)
            .ThenBy(c => c.DestinationSegment, StringComparer.Ordinal)
            .ThenBy(c => c.Kind)
            .ThenBy(c => c.Path, StringComparer.Ordinal)
            .ThenBy(c => c.Principal, StringComparer.Ordinal)];
    }

    private static (List<string> Weaker, List<string> Stronger) Requirements(AccessRequirements was, AccessRequirements @is)
    {
        var weaker = new List<string>();
        var stronger = new List<string>();
        void Either(bool weakened, bool strengthened, string weakText, string strongText)
        {
            if (weakened)
            {
                weaker.Add(weakText);
            }
            else if (strengthened)
            {
                stronger.Add(strongText);
            }
        }

        Either(was.Mfa == MfaRequirement.Required && @is.Mfa == MfaRequirement.Optional,
            was.Mfa == MfaRequirement.Optional && @is.Mfa == MfaRequirement.Required,
            "MFA made optional", "MFA now required");

        if (was.MaxAuthAge is { } oldAge && @is.MaxAuthAge is { } newAge)
        {
            Either(newAge > oldAge, newAge < oldAge,
                $"maxAuthAge raised from {Durations.Format(oldAge)} to {Durations.Format(newAge)}",
                $"maxAuthAge lowered from {Durations.Format(oldAge)} to {Durations.Format(newAge)}");
        }

        Either(was.Acr.Count > 0 && (@is.Acr.Count == 0 || @is.Acr.Except(was.Acr, StringComparer.Ordinal).Any()),
            @is.Acr.Count > 0 && (was.Acr.Count == 0 || was.Acr.Except(@is.Acr, StringComparer.Ordinal).Any()),
            @is.Acr.Count == 0 ? "acr no longer checked" : $"acr widened to {Text.List(@is.Acr)}",
            $"acr narrowed to {Text.List(@is.Acr)}");

        Either(was.BoundToken && !@is.BoundToken, !was.BoundToken && @is.BoundToken,
            "bound token no longer required: a bearer token will do", "bound token now required");

        if (was.Device is { } oldDevice && @is.Device is { } newDevice)
        {
            Either(oldDevice.Required && !newDevice.Required, !oldDevice.Required && newDevice.Required,
                "device no longer required", "device now required");
            Either(oldDevice.Compliant && !newDevice.Compliant, !oldDevice.Compliant && newDevice.Compliant,
                "compliant device no longer required", "compliant device now required");
            Either(oldDevice.Managed && !newDevice.Managed, !oldDevice.Managed && newDevice.Managed,
                "managed device no longer required", "managed device now required");
            var oldRisk = oldDevice.MaxRisk ?? RiskLevel.High;
            var newRisk = newDevice.MaxRisk ?? RiskLevel.High;
            Either(newRisk > oldRisk, newRisk < oldRisk,
                $"device risk allowed up to {Text.Risk(newRisk)} (was {Text.Risk(oldRisk)})",
                $"device risk limited to {Text.Risk(newRisk)} (was {Text.Risk(oldRisk)})");
        }

        Either(was.Networks.Count > 0 && (@is.Networks.Count == 0 || !Covers(was.Networks, @is.Networks)),
            @is.Networks.Count > 0 && (was.Networks.Count == 0 || !Covers(@is.Networks, was.Networks)),
            @is.Networks.Count == 0 ? "network limit removed" : $"networks widened to {Text.List(@is.Networks.Select(n => n.ToString()))}",
            $"networks narrowed to {Text.List(@is.Networks.Select(n => n.ToString()))}");

        switch (was.Until, @is.Until)
        {
            case ({ } oldUntil, null):
                weaker.Add($"until {Text.Instant(oldUntil)} removed: the grant no longer ends");
                break;
            case ({ } oldUntil, { } newUntil) when newUntil > oldUntil:
                weaker.Add($"until extended from {Text.Instant(oldUntil)} to {Text.Instant(newUntil)}");
                break;
            case ({ } oldUntil, { } newUntil) when newUntil < oldUntil:
                stronger.Add($"until brought forward from {Text.Instant(oldUntil)} to {Text.Instant(newUntil)}");
                break;
            case (null, { } newUntil):
                stronger.Add($"until {Text.Instant(newUntil)} added");
                break;
        }

        return (weaker, stronger);
    }

    // True when every network of inner lies inside one of outer.
    private static bool Covers(IReadOnlyList<IPNetwork> outer, IReadOnlyList<IPNetwork> inner) =>
        inner.All(n => outer.Any(o =>
            o.BaseAddress.AddressFamily == n.BaseAddress.AddressFamily && o.PrefixLength <= n.PrefixLength && o.Contains(n.BaseAddress)));

    /// <summary>An access path: source, destination route (by shape, so that renaming a route changes nothing), method, principal.</summary>
    private readonly record struct Key(string Source, string Destination, string PathKey, string Method, PrincipalItem Principal) : IComparable<Key>
    {
        public int CompareTo(Key other)
        {
            var order = string.CompareOrdinal(Source, other.Source);
            order = order != 0 ? order : string.CompareOrdinal(Destination, other.Destination);
            order = order != 0 ? order : string.CompareOrdinal(PathKey, other.PathKey);
            order = order != 0 ? order : string.CompareOrdinal(Method, other.Method);
            order = order != 0 ? order : Principal.Kind.CompareTo(other.Principal.Kind);
            return order != 0 ? order : string.CompareOrdinal(Principal.Value, other.Principal.Value);
        }
    }

    /// <summary>What one policy says about an access path: its route and rule, and the weakest requirements granting it.</summary>
    private sealed record Grant(string RouteId, string Path, bool RouteTakesAnyMethod, string Rule, AccessRequirements Requirements);

    /// <summary>One of the two policies: its access paths and deny paths, and its engine to ask.</summary>
    private sealed class Side(AccessProbe probe)
    {
        public Dictionary<Key, Grant> Grants { get; } = [];

        public Dictionary<Key, Grant> Denies { get; } = [];

        public void Collect(IReadOnlyList<string> sources, IReadOnlyList<string> universe)
        {
            foreach (var (name, table) in probe.Compiled.Segments)
            {
                foreach (var route in table.Routes)
                {
                    var pathKey = PathKey(route.Template);
                    foreach (var rule in route.Allow.Concat(route.Deny))
                    {
                        var grant = new Grant(route.Id, route.Config.Match.Path, route.Config.Match.Methods.Count == 0, rule.Name, AccessRequirements.Of(rule));
                        var methods = ReachabilityGraph.GrantMethods(route, rule);
                        var target = rule.IsDeny ? Denies : Grants;
                        foreach (var source in ReachabilityGraph.Sources(rule, sources))
                        {
                            foreach (var method in methods.Count > 0 ? methods : universe)
                            {
                                foreach (var item in PrincipalItem.Of(rule.Config))
                                {
                                    var key = new Key(source, name, pathKey, method.ToUpperInvariant(), item);
                                    if (!target.TryGetValue(key, out var existing))
                                    {
                                        target[key] = grant;
                                    }
                                    else if (!rule.IsDeny)
                                    {
                                        target[key] = existing with { Requirements = Weakest(existing.Requirements, grant.Requirements) };
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }

        /// <summary>True when this policy has a route of the key's shape that takes the key's method.</summary>
        public bool HasRoute(Key key) => Find(key) is not null;

        /// <summary>The engine's answer to the most favourable request on the path, built from <paramref name="grant"/>.</summary>
        public bool IsOpen(Key key, Grant grant)
        {
            if (Find(key) is not var (table, route))
            {
                return false;
            }

            var decision = probe.AskAs(table, route, key.Principal, grant.Requirements.Acr, key.Source, key.Method);
            return decision is { Allowed: true };
        }

        private (SegmentRouteTable Table, CompiledRoute Route)? Find(Key key)
        {
            if (!probe.Compiled.Segments.TryGetValue(key.Destination, out var table))
            {
                return null;
            }

            foreach (var route in table.Routes)
            {
                if (PathKey(route.Template) == key.PathKey && probe.PathFor(table, route, key.Method) is not null)
                {
                    return (table, route);
                }
            }

            return null;
        }
    }

    private static string PathKey(CompiledPathTemplate template) =>
        "/" + string.Join('/', template.Segments.Select(s => s.Kind switch
        {
            TemplateSegmentKind.Literal => s.Text.ToLowerInvariant(),
            TemplateSegmentKind.Parameter => "{}",
            _ => "{**}",
        }));

    private static AccessRequirements Weakest(AccessRequirements a, AccessRequirements b) => new()
    {
        Mfa = a.Mfa == MfaRequirement.Optional || b.Mfa == MfaRequirement.Optional ? MfaRequirement.Optional : a.Mfa ?? b.Mfa,
        MaxAuthAge = a.MaxAuthAge is { } x && b.MaxAuthAge is { } y ? (x > y ? x : y) : a.MaxAuthAge ?? b.MaxAuthAge,
        Acr = a.Acr.Count == 0 || b.Acr.Count == 0 ? [] : [.. a.Acr.Union(b.Acr, StringComparer.Ordinal)],
        Device = a.Device is { } d && b.Device is { } e
            ? new DeviceRequirement
            {
                Required = d.Required && e.Required,
                Compliant = d.Compliant && e.Compliant,
                Managed = d.Managed && e.Managed,
                MaxRisk = d.MaxRisk is { } r && e.MaxRisk is { } s ? (r > s ? r : s) : null,
            }
            : a.Device ?? b.Device,
        Networks = a.Networks.Count == 0 || b.Networks.Count == 0 ? [] : [.. a.Networks.Union(b.Networks)],
        Until = a.Until is { } u && b.Until is { } v ? (u > v ? u : v) : null,
        BoundToken = a.BoundToken && b.BoundToken,
    };
}
