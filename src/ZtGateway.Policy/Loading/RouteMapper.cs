using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Loading.Values;
using ZtGateway.Policy.Loading.Yaml;

namespace ZtGateway.Policy.Loading;

/// <summary>Maps the <c>routes:</c> list of one segment file.</summary>
internal sealed class RouteMapper(NodeReader reader, IReadOnlyDictionary<string, ServiceConfig> services, TimeProvider timeProvider)
{
    private readonly List<FromReference> fromReferences = [];

    /// <summary>Every <c>from</c> entry read so far, for resolution once all segment files are known.</summary>
    public IReadOnlyList<FromReference> FromReferences => fromReferences;

    public IReadOnlyList<PolicyRoute> ReadRoutes(Node? node)
    {
        var routes = new List<PolicyRoute>();
        var sequence = reader.Sequence(node, "routes");
        var ids = new Dictionary<string, SourceLocation>(StringComparer.Ordinal);
        for (var i = 0; i < (sequence?.Items.Count ?? 0); i++)
        {
            if (ReadRoute(sequence!.Items[i], i, ids) is { } route)
            {
                routes.Add(route);
            }
        }

        return routes;
    }

    /// <summary>HTTP methods: tokens, stored upper case, each once.</summary>
    public static IReadOnlyList<string>? ReadMethods(NodeReader reader, Node? node, string name)
    {
        var items = reader.ScalarList(node, name);
        if (items is null)
        {
            return null;
        }

        var methods = new List<string>(items.Count);
        foreach (var item in items)
        {
            var method = item.Value.ToUpperInvariant();
            if (!HttpSyntax.IsToken(method))
            {
                reader.Error(item.Location, $"'{name}' has an invalid HTTP method '{item.Value}'");
            }
            else if (methods.Contains(method))
            {
                reader.Error(item.Location, $"'{name}' lists method '{method}' twice");
            }
            else
            {
                methods.Add(method);
            }
        }

        return methods;
    }

    private PolicyRoute? ReadRoute(Node node, int index, Dictionary<string, SourceLocation> ids)
    {
        var map = reader.Mapping(node, "routes entry");
        if (map is null)
        {
            if (node is ScalarNode { IsNull: true })
            {
                reader.Error(node.Location, "'routes' has an empty entry");
            }

            return null;
        }

        var idNode = map.Get("id");
        var where = idNode is ScalarNode { IsNull: false } written ? $"route '{written.Value}'" : $"route {index + 1}";
        var scoped = reader.Scoped(where);
        var id = scoped.NonEmptyString(map.Required("id", where), "id");
        if (id is not null && !ids.TryAdd(id, idNode!.Location))
        {
            reader.Error(idNode.Location, $"duplicate route id '{id}' (first at line {ids[id].Line})");
        }

        var match = ReadMatch(scoped, map.Required("match", where));
        var service = ReadServiceReference(scoped, map.Required("service", where));

        var ruleNames = new Dictionary<string, SourceLocation>(StringComparer.Ordinal);
        var rules = new RuleMapper(reader, where, ruleNames, fromReferences, timeProvider);
        var allowNode = map.Get("allow");
        var allow = rules.ReadRules(scoped.Sequence(allowNode, "allow"), isAllow: true);
        if (allowNode is null or ScalarNode { IsNull: true })
        {
            reader.Error(map.Location, $"{where} has no allow rule, so no request could ever pass it");
        }
        else if (allowNode is SequenceNode { Items.Count: 0 })
        {
            reader.Error(allowNode.Location, $"{where} has no allow rule, so no request could ever pass it");
        }

        var deny = rules.ReadRules(scoped.Sequence(map.Get("deny"), "deny"), isAllow: false);
        map.Complete(where);
        return new PolicyRoute
        {
            Id = id ?? string.Empty,
            Match = match ?? new RouteMatchConfig { Path = string.Empty },
            Service = service ?? string.Empty,
            Allow = allow,
            Deny = deny,
            Location = map.Location,
        };
    }

    private static RouteMatchConfig? ReadMatch(NodeReader scoped, Node? node)
    {
        var map = scoped.Mapping(node, "match");
        if (map is null)
        {
            return null;
        }

        var pathNode = scoped.Scalar(map.Required("path", "'match'"), "match.path");
        if (pathNode is not null && PathTemplateSyntax.Validate(pathNode.Value) is { } problem)
        {
            scoped.Error(pathNode.Location, $"path '{pathNode.Value}' {problem}");
        }

        var methods = ReadMethods(scoped, map.Get("methods"), "match.methods");
        map.Complete("'match'");
        return pathNode is null ? null : new RouteMatchConfig { Path = pathNode.Value, Methods = methods ?? [] };
    }

    private string? ReadServiceReference(NodeReader scoped, Node? node)
    {
        var name = scoped.NonEmptyString(node, "service");
        if (name is not null && !services.ContainsKey(name))
        {
            scoped.Error(node!.Location, $"service '{name}' is not defined in this file");
        }

        return name;
    }
}
