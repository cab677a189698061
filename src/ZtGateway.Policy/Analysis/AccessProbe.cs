using System.Net;
using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Engine;

namespace ZtGateway.Policy.Analysis;

/// <summary>Who a probe request speaks for: one group, role, subject or workload named by a rule.</summary>
internal readonly record struct PrincipalItem(PrincipalItemKind Kind, string Value)
{
    public bool IsWorkload => Kind == PrincipalItemKind.Workload;

    /// <summary>Every item a rule names, in the order written: groups, roles, subjects, or workloads.</summary>
    public static IEnumerable<PrincipalItem> Of(RuleConfig rule)
    {
        if (rule.Users is { } users)
        {
            foreach (var group in users.Groups)
            {
                yield return new PrincipalItem(PrincipalItemKind.Group, group);
            }

            foreach (var role in users.Roles)
            {
                yield return new PrincipalItem(PrincipalItemKind.Role, role);
            }

            foreach (var subject in users.Subjects)
            {
                yield return new PrincipalItem(PrincipalItemKind.Subject, subject);
            }
        }

        foreach (var workload in rule.Workloads ?? [])
        {
            yield return new PrincipalItem(PrincipalItemKind.Workload, workload);
        }
    }

    public override string ToString() => Kind switch
    {
        PrincipalItemKind.Group => "group " + Value,
        PrincipalItemKind.Role => "role " + Value,
        PrincipalItemKind.Subject => "user " + Value,
        _ => "workload " + Value,
    };
}

/// <summary>Kinds of <see cref="PrincipalItem"/>.</summary>
internal enum PrincipalItemKind
{
    Group,
    Role,
    Subject,
    Workload,
}

/// <summary>
/// Asks the engine about requests an analysis makes up. The analyses never judge a request themselves: they build the
/// most favourable request a given caller could send (fresh multi-factor login, a certificate-bound token, healthy
/// device, an address from the right network) and take the engine's decision as the answer.
/// </summary>
internal sealed class AccessProbe
{
    /// <summary>The methods a route without its own list is asked about, besides those its rules name.</summary>
    public static readonly IReadOnlyList<string> StandardMethods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

    // A documentation address (RFC 5737): inside no real network, so it stands for "somewhere else".
    private static readonly IPAddress Elsewhere = IPAddress.Parse("192.0.2.1");
    private const string SampleSegment = "ztgw-sample";

    private readonly Dictionary<(string Segment, string Route, string Method), string?> paths = [];
    private readonly string mfaMethod;

    public AccessProbe(PolicyEngine engine)
    {
        Engine = engine;
        Now = engine.Time.GetUtcNow();
        var methods = engine.Policy.Gateway.Identity.MfaMethods;
        mfaMethod = methods.Count > 0 ? methods[0] : "mfa";
    }

    public PolicyEngine Engine { get; }

    public CompiledPolicy Compiled => Engine.Compiled;

    public PolicySet Policy => Engine.Policy;

    /// <summary>The instant every probe is made at: the engine's clock, read once.</summary>
    public DateTimeOffset Now { get; }

    /// <summary>The methods worth asking a route about: its own list, else every standard method and those its rules name.</summary>
    public static IReadOnlyList<string> MethodsOf(CompiledRoute route)
    {
        if (route.Config.Match.Methods.Count > 0)
        {
            return route.Config.Match.Methods;
        }

        var named = route.Allow.Concat(route.Deny).SelectMany(r => r.Config.Methods ?? []);
        return [.. StandardMethods.Concat(named).Distinct(StringComparer.OrdinalIgnoreCase)];
    }

    /// <summary>A request path that the template takes, in a few shapes, so that one of them reaches the route itself.</summary>
    public static IEnumerable<string> SamplePaths(CompiledPathTemplate template)
    {
        var prefix = string.Concat(template.Segments
            .Where(s => s.Kind != TemplateSegmentKind.CatchAll)
            .Select(s => "/" + (s.Kind == TemplateSegmentKind.Literal ? s.Text : SampleSegment)));
        if (template.Segments.Count == 0 || template.Segments[^1].Kind != TemplateSegmentKind.CatchAll)
        {
            yield return prefix.Length == 0 ? "/" : prefix;
            yield break;
        }

        yield return $"{prefix}/{SampleSegment}";
        yield return $"{prefix}/{SampleSegment}/{SampleSegment}";
        yield return prefix.Length == 0 ? "/" : prefix;
    }

    /// <summary>An address inside <paramref name="network"/> (the first after the base address where there is one).</summary>
    public static IPAddress Representative(IPNetwork network)
    {
        var bytes = network.BaseAddress.GetAddressBytes();
        if (network.PrefixLength < bytes.Length * 8)
        {
            bytes[^1] |= 1;
        }

        return new IPAddress(bytes);
    }

    /// <summary>
    /// A path of <paramref name="route"/> for <paramref name="method"/>: the first sample the engine routes to this very
    /// route; null when more specific routes take every sample (the route is shadowed for that method).
    /// </summary>
    public string? PathFor(SegmentRouteTable table, CompiledRoute route, string method)
    {
        var key = (table.Name, route.Id, method);
        if (paths.TryGetValue(key, out var cached))
        {
            return cached;
        }

        string? found = null;
        foreach (var path in SamplePaths(route.Template))
        {
            // Without a token the engine stops right after routing, which is all this asks.
            var decision = Engine.Decide(new RequestContext { Segment = table.Name, Method = method, Path = path });
            if (decision.RouteId == route.Id)
            {
                found = path;
                break;
            }
        }

        paths[key] = found;
        return found;
    }

    /// <summary>
    /// Asks the engine for <paramref name="request"/> (its path and address filled in) from each of
    /// <paramref name="addresses"/> until one is allowed. Returns the allowing decision, else the most telling refusal; null
    /// when the route does not take the method.
    /// </summary>
    public Decision? Ask(SegmentRouteTable table, CompiledRoute route, RequestContext request, IEnumerable<IPAddress?> addresses)
    {
        var path = PathFor(table, route, request.Method);
        if (path is null)
        {
            return null;
        }

        Decision? refusal = null;
        foreach (var address in addresses.Distinct())
        {
            var decision = Engine.Decide(request with { Segment = table.Name, Path = path, ClientAddress = address });
            if (decision.Allowed)
            {
                return decision;
            }

            // An address outside the caller's own networks says nothing about the rules: keep a refusal that does.
            if (refusal is null || (refusal.Reason == ReasonCode.SourceMismatch && decision.Reason != ReasonCode.SourceMismatch))
            {
                refusal = decision;
            }
        }

        return refusal;
    }

    /// <summary>
    /// The engine's answer to the most favourable request of <paramref name="item"/>, placed in
    /// <paramref name="source"/>, for <paramref name="method"/> on <paramref name="route"/>: a person signs in fresh with
    /// multi-factor (and the first <c>acr</c> <paramref name="acr"/> lists) on a healthy device of the source segment; a
    /// workload calls from its own segment's networks, or from the source's. Null when the route does not take the method.
    /// </summary>
    public Decision? AskAs(
        SegmentRouteTable table, CompiledRoute route, PrincipalItem item, IReadOnlyList<string> acr, string source, string method)
    {
        if (item.IsWorkload)
        {
            var networks = HomeNetworks(item.Value).Concat(NetworksOf(source));
            return Ask(table, route, Request(method, Workload(item.Value), null), Addresses(route, networks));
        }

        var user = UserFor(item, acr.Count > 0 ? acr[0] : null);
        return Ask(table, route, Request(method, user, HealthyDevice(source)), Addresses(route, []));
    }

    /// <summary><see cref="AskAs"/> with the <c>acr</c> values of <paramref name="rule"/>.</summary>
    public Decision? AskGrant(SegmentRouteTable table, CompiledRoute route, CompiledRule rule, PrincipalItem item, string source, string method) =>
        AskAs(table, route, item, rule.AcrValues, source, method);

    /// <summary>A person who just signed in with multi-factor authentication, holding <paramref name="acr"/>.</summary>
    public Principal FreshUser(string subject, IReadOnlyList<string> groups, IReadOnlyList<string> roles, string? acr) => new()
    {
        Kind = PrincipalKind.User,
        Subject = subject,
        Groups = groups,
        Roles = roles,
        Amr = ["pwd", mfaMethod],
        Acr = acr,
        AuthTime = Now,
        IssuedAt = Now,
    };

    /// <summary>The person a rule's item names, signed in as strongly as possible.</summary>
    public Principal UserFor(PrincipalItem item, string? acr) => item.Kind switch
    {
        PrincipalItemKind.Group => FreshUser("probe-user", [item.Value], [], acr),
        PrincipalItemKind.Role => FreshUser("probe-user", [], [item.Value], acr),
        _ => FreshUser(item.Value, [], [], acr),
    };

    public static Principal Workload(string id) => new() { Kind = PrincipalKind.Workload, Subject = id, WorkloadId = id };

    /// <summary>A compliant, managed, low-risk device whose home is <paramref name="segment"/>.</summary>
    public static DevicePosture HealthyDevice(string segment) => new()
    {
        DeviceId = "probe-device",
        Segment = segment,
        Compliant = true,
        Managed = true,
        Risk = RiskLevel.Low,
    };

    /// <summary>
    /// A request of <paramref name="principal"/> with a verified token bound to the connection's certificate (the
    /// strongest credential, so that <c>boundToken</c> never hides a path) and, when given, a verified device.
    /// </summary>
    public static RequestContext Request(string method, Principal principal, DevicePosture? device) => new()
    {
        Segment = string.Empty,
        Method = method,
        Path = "/",
        Token = TokenStatus.Valid,
        Principal = principal,
        DeviceStatus = device is null ? DeviceStatus.Absent : DeviceStatus.Verified,
        Device = device,
        Binding = CredentialBinding.BoundToken,
    };

    /// <summary>
    /// Addresses worth trying for a route: inside each network its rules are limited to, inside each of
    /// <paramref name="networks"/>, and somewhere else.
    /// </summary>
    public static IEnumerable<IPAddress?> Addresses(CompiledRoute route, IEnumerable<IPNetwork> networks) =>
        route.Allow.Concat(route.Deny).SelectMany(r => r.Config.Networks ?? [])
            .Concat(networks)
            .Select(Representative)
            .Append(Elsewhere)
            .Distinct()
            .Cast<IPAddress?>();

    /// <summary>The member networks of the segment whose members list <paramref name="workload"/>; empty when none does.</summary>
    public IEnumerable<IPNetwork> HomeNetworks(string workload) =>
        Policy.Segments.Values.Where(s => s.Members.Workloads.Contains(workload, StringComparer.Ordinal)).SelectMany(s => s.Members.Networks);

    /// <summary>Member networks of every segment: where a caller that nothing else places could sit.</summary>
    public IEnumerable<IPNetwork> AllNetworks() => Policy.Segments.Values.SelectMany(s => s.Members.Networks);

    /// <summary>The member networks of <paramref name="segment"/>; empty for a name outside the policy.</summary>
    public IEnumerable<IPNetwork> NetworksOf(string segment) =>
        Policy.Segments.TryGetValue(segment, out var config) ? config.Members.Networks : [];
}
