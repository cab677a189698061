using System.Globalization;
using System.Text.RegularExpressions;
using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Loading.Yaml;

namespace ZtGateway.Policy.Loading;

/// <summary>Maps the <c>allow:</c> and <c>deny:</c> rules of one route.</summary>
internal sealed partial class RuleMapper(
    NodeReader reader,
    string routeWhere,
    Dictionary<string, SourceLocation> ruleNames,
    List<FromReference> fromReferences,
    TimeProvider timeProvider)
{
    private const string AnyFromHint = "use [\"*\"] for any segment";

    // How far ahead validation warns that a just-in-time grant is about to end.
    private static readonly TimeSpan ExpiryNotice = TimeSpan.FromDays(7);

    // Requirements on how a person signed in and on the device; a workload has neither.
    private static readonly string[] UserOnlyKeys = ["mfa", "maxAuthAge", "acr", "device"];

    public IReadOnlyList<RuleConfig> ReadRules(SequenceNode? sequence, bool isAllow)
    {
        var rules = new List<RuleConfig>();
        for (var i = 0; i < (sequence?.Items.Count ?? 0); i++)
        {
            if (ReadRule(sequence!.Items[i], i, isAllow) is { } rule)
            {
                rules.Add(rule);
            }
        }

        return rules;
    }

    /// <summary>Reads <c>required</c> | <c>optional</c>.</summary>
    public static MfaRequirement? ReadMfa(NodeReader reader, Node? node, string name) =>
        reader.Choice(node, name, ("required", MfaRequirement.Required), ("optional", MfaRequirement.Optional));

    /// <summary>Reads a device requirement: a word (compliant | managed | any) or a mapping.</summary>
    public static DeviceRequirement? ReadDevice(NodeReader reader, Node? node, string name)
    {
        switch (node)
        {
            case null or ScalarNode { IsNull: true }:
                return null;
            case ScalarNode:
                return reader.ChoiceWord(node, name, "compliant", "managed", "any") switch
                {
                    "compliant" => DeviceRequirement.CompliantDevice,
                    "managed" => DeviceRequirement.ManagedDevice,
                    "any" => DeviceRequirement.AnyDevice,
                    _ => null,
                };
            case MappingNode:
                var map = reader.Mapping(node, name)!;
                var requirement = new DeviceRequirement
                {
                    Required = true,
                    Compliant = reader.Bool(map.Get("compliant"), $"{name}.compliant") ?? false,
                    Managed = reader.Bool(map.Get("managed"), $"{name}.managed") ?? false,
                    MaxRisk = reader.Choice(map.Get("maxRisk"), $"{name}.maxRisk", ("low", RiskLevel.Low), ("medium", RiskLevel.Medium), ("high", RiskLevel.High)),
                };
                map.Complete($"'{name}'");
                return requirement;
            default:
                reader.Error(node.Location, $"'{name}' must be compliant, managed, any or a mapping, not {node.KindName}");
                return null;
        }
    }

    private RuleConfig? ReadRule(Node node, int index, bool isAllow)
    {
        var kind = isAllow ? "allow" : "deny";
        var map = reader.Mapping(node, $"{kind} entry");
        if (map is null)
        {
            if (node is ScalarNode { IsNull: true })
            {
                reader.Error(node.Location, $"'{kind}' of {routeWhere} has an empty entry");
            }

            return null;
        }

        var nameNode = map.Get("name");
        var where = nameNode is ScalarNode { IsNull: false } written ? $"rule '{written.Value}'" : $"{kind} rule {index + 1} of {routeWhere}";
        var scoped = reader.Scoped(where);
        var name = scoped.NonEmptyString(map.Required("name", where), "name");
        if (name is not null && !ruleNames.TryAdd(name, nameNode!.Location))
        {
            reader.Error(nameNode.Location, $"duplicate rule name '{name}' in {routeWhere} (first at line {ruleNames[name].Line})");
        }

        var from = ReadFrom(scoped, map, isAllow, where);
        var (users, workloads) = ReadPrincipals(scoped, map, where);
        var isWorkloadRule = workloads is not null && !map.Has("users");
        if (isWorkloadRule)
        {
            foreach (var key in UserOnlyKeys.Where(map.Has))
            {
                scoped.Error(map.KeyLocation(key), $"'{key}' applies to users only; a workload rule cannot set it");
            }
        }

        var boundToken = scoped.Bool(map.Get("boundToken"), "boundToken");
        if (!isAllow && map.Has("boundToken"))
        {
            // A deny rule has no requirements: "deny unbound tokens" would be read into it, and it would not hold.
            scoped.Error(map.KeyLocation("boundToken"), "'boundToken' is a requirement of allow rules; a deny rule has none");
        }

        var rule = new RuleConfig
        {
            Name = name ?? string.Empty,
            From = from,
            Users = users,
            Workloads = workloads,
            Methods = RouteMapper.ReadMethods(scoped, map.Get("methods"), "methods"),
            Networks = scoped.CidrList(map.Get("networks"), "networks"),
            Mfa = ReadMfa(scoped, map.Get("mfa"), "mfa"),
            MaxAuthAge = scoped.Duration(map.Get("maxAuthAge"), "maxAuthAge", positive: true),
            Acr = scoped.NonEmptyStringList(map.Get("acr"), "acr", "value"),
            Device = ReadDevice(scoped, map.Get("device"), "device"),
            Until = ReadUntil(scoped, map.Get("until")),
            BoundToken = isAllow && boundToken == true,
            Location = map.Location,
        };
        map.Complete(where);
        return rule;
    }

    private List<string>? ReadFrom(NodeReader scoped, MappingReader map, bool isAllow, string where)
    {
        var node = map.Get("from");
        if (node is null or ScalarNode { IsNull: true })
        {
            if (isAllow)
            {
                // "rule 'x'" reads better as "allow rule 'x'"; an unnamed rule is already "allow rule 2 of ...".
                var label = where.StartsWith("rule ", StringComparison.Ordinal) ? "allow " + where : where;
                reader.Error(map.Location, $"{label} must say where callers come from ('from'); {AnyFromHint}");
            }

            return null;
        }

        var items = scoped.ScalarList(node, "from");
        if (items is null)
        {
            return null;
        }

        if (node is SequenceNode { Items.Count: 0 })
        {
            scoped.Error(node.Location, $"'from' is empty, so the rule could never apply; {AnyFromHint}");
        }

        foreach (var item in items)
        {
            fromReferences.Add(new FromReference(where, item));
        }

        return [.. items.Select(i => i.Value)];
    }

    private static (UserSelector? Users, IReadOnlyList<string>? Workloads) ReadPrincipals(NodeReader scoped, MappingReader map, string where)
    {
        // Read both up front so that a key written without a value is not also reported as unknown.
        var usersNode = map.Get("users");
        var workloadsNode = map.Get("workloads");
        var hasUsers = map.Has("users");
        var hasWorkloads = map.Has("workloads");
        if (!hasUsers && !hasWorkloads)
        {
            scoped.Diagnostics.Error(map.Location, $"{where} names neither users nor workloads");
            return (null, null);
        }

        if (hasUsers && hasWorkloads)
        {
            var later = map.KeyLocation("users").Line > map.KeyLocation("workloads").Line ? "users" : "workloads";
            scoped.Diagnostics.Error(map.KeyLocation(later), $"{where} names both users and workloads; write one rule for each");
        }

        var users = hasUsers ? ReadUsers(scoped, usersNode) : null;
        var workloads = hasWorkloads ? scoped.NonEmptyStringList(workloadsNode, "workloads", "workload") : null;
        return (users, workloads);
    }

    private static UserSelector? ReadUsers(NodeReader scoped, Node? node)
    {
        var map = scoped.Mapping(node, "users");
        if (map is null)
        {
            return null;
        }

        var users = new UserSelector
        {
            Groups = scoped.StringList(map.Get("groups"), "users.groups") ?? [],
            Roles = scoped.StringList(map.Get("roles"), "users.roles") ?? [],
            Subjects = scoped.StringList(map.Get("subjects"), "users.subjects") ?? [],
        };
        map.Complete("'users'");
        if (users.Groups.Count == 0 && users.Roles.Count == 0 && users.Subjects.Count == 0)
        {
            scoped.Error(map.Location, "'users' names no groups, roles or subjects");
        }

        return users;
    }

    private DateTimeOffset? ReadUntil(NodeReader scoped, Node? node)
    {
        var scalar = scoped.Scalar(node, "until");
        if (scalar is null)
        {
            return null;
        }

        // An instant without an offset would mean different moments on different hosts.
        if (!IsoInstant().IsMatch(scalar.Value)
            || !DateTimeOffset.TryParse(scalar.Value, CultureInfo.InvariantCulture, DateTimeStyles.None, out var until))
        {
            scoped.Error(scalar.Location, $"invalid until '{scalar.Value}' (use an ISO 8601 instant with an offset, e.g. 2026-12-31T00:00:00Z)");
            return null;
        }

        var now = timeProvider.GetUtcNow();
        var utc = until.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        if (until <= now)
        {
            scoped.Warning(scalar.Location, $"grant expired at {utc}; it no longer applies");
        }
        else if (until - now <= ExpiryNotice)
        {
            // Early enough to renew a grant that is still needed, or to let the owner know it ends.
            var left = until - now;
            var days = (int)Math.Ceiling(left.TotalDays);
            var inWords = left > TimeSpan.FromDays(1) ? $"{days} days" : $"{(int)Math.Ceiling(left.TotalHours)} h";
            scoped.Warning(scalar.Location, $"grant expires at {utc} (in {inWords}); renew it or let it lapse");
        }

        return until;
    }

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?([Zz]|[+-]\d{2}:\d{2})$", RegexOptions.CultureInvariant)]
    private static partial Regex IsoInstant();
}
