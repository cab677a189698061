using System.Collections.Frozen;
using System.Net;
using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Loading.Values;
using ZtGateway.Policy.Loading.Yaml;

namespace ZtGateway.Policy.Loading;

/// <summary>A mapped segment file with the written values that checks across files need.</summary>
/// <param name="FilePath">Absolute path of the file.</param>
/// <param name="Config">The mapped file; only meaningful when no error was recorded.</param>
/// <param name="NameNode">The written <c>segment</c> value, valid or not (so that a typo in it does not also break every <c>from</c>).</param>
/// <param name="NameIsValid">Whether <see cref="NameNode"/> is an acceptable segment name.</param>
/// <param name="Listen">The parsed listener; null when missing or malformed.</param>
/// <param name="ListenLocation">Where <c>listen</c> is written.</param>
/// <param name="Workloads">The written <c>members.workloads</c> entries.</param>
/// <param name="FromReferences">Every <c>from</c> entry of every rule, to be resolved once all files are read.</param>
internal sealed record SegmentFile(
    string FilePath,
    SegmentConfig Config,
    ScalarNode? NameNode,
    bool NameIsValid,
    ListenAddress? Listen,
    SourceLocation ListenLocation,
    IReadOnlyList<ScalarNode> Workloads,
    IReadOnlyList<FromReference> FromReferences)
{
    /// <summary>Where <c>signIn</c> is written, for the check against gateway.yaml's <c>signIn:</c>.</summary>
    public SourceLocation SignInLocation { get; init; } = SourceLocation.None;
}

/// <summary>A <c>from</c> entry of a rule; <paramref name="Where"/> names the rule for messages ("rule 'x'").</summary>
internal sealed record FromReference(string Where, ScalarNode Segment);

/// <summary>Maps the nodes of a segment file (docs/design.md section 2.2) to <see cref="SegmentConfig"/>.</summary>
internal static class SegmentFileMapper
{
    private const string WhereFile = "segment file";

    /// <summary>The path the gateway's sign-in endpoints live under; no route may take it.</summary>
    public const string ReservedPath = "/.ztgw";

    /// <summary>Maps one segment file; relative paths (TLS files) are taken from <paramref name="baseDirectory"/>, the folder of gateway.yaml.</summary>
    public static SegmentFile Map(string filePath, Node root, DiagnosticBag diagnostics, TimeProvider timeProvider, string? baseDirectory = null)
    {
        baseDirectory ??= Path.GetDirectoryName(filePath) ?? string.Empty;
        var reader = new NodeReader(diagnostics);
        var empty = new SegmentFile(
            filePath,
            new SegmentConfig { Name = string.Empty, Listen = string.Empty, FilePath = filePath },
            NameNode: null,
            NameIsValid: false,
            Listen: null,
            root.Location,
            [],
            []);
        if (root is not MappingNode)
        {
            reader.Error(root.Location, $"the segment file must be a mapping with 'segment', 'listen' and 'routes', not {root.KindName}");
            return empty;
        }

        var map = reader.Mapping(root, WhereFile)!;
        var (nameNode, nameIsValid) = ReadName(reader, map);
        var description = reader.String(map.Get("description"), "description");
        var (listen, listenText, listenLocation) = ReadListen(reader, map);
        var protocols = TlsMapper.ReadProtocols(reader, map.Get("protocols"), listen?.IsHttps);
        var tls = TlsMapper.ReadListenerTls(reader, map, listen?.IsHttps, listenText, listenLocation, baseDirectory);
        var signIn = ReadSignIn(reader, map, listen);
        var (members, workloads) = ReadMembers(reader, map.Get("members"));
        var defaults = ReadDefaults(reader, map.Get("defaults"));
        var services = ReadServices(reader, map.Get("services"), baseDirectory);
        var routeMapper = new RouteMapper(reader, services, timeProvider);
        var routes = routeMapper.ReadRoutes(map.Get("routes"));
        CheckReservedPaths(reader, map.Get("routes"));
        map.Complete(WhereFile);

        var config = new SegmentConfig
        {
            Name = nameNode?.Value ?? string.Empty,
            Description = description,
            Listen = listenText,
            Protocols = protocols ?? ListenerProtocols.Http1,
            Tls = tls,
            SignIn = signIn,
            Members = members,
            Defaults = defaults,
            Services = services,
            Routes = routes,
            FilePath = filePath,
            Location = map.KeyLocation("segment"),
        };
        return new SegmentFile(filePath, config, nameNode, nameIsValid, listen, listenLocation, workloads, routeMapper.FromReferences)
        {
            SignInLocation = map.Get("signIn")?.Location ?? map.Location,
        };
    }

    private static (ScalarNode? Node, bool IsValid) ReadName(NodeReader reader, MappingReader map)
    {
        var node = reader.Scalar(map.Required("segment", WhereFile), "segment");
        if (node is null)
        {
            return (null, false);
        }

        if (node.Value == Names.UnknownSegment)
        {
            reader.Error(node.Location, $"segment name '{Names.UnknownSegment}' is reserved for callers from no known segment");
            return (node, false);
        }

        if (!Names.IsValid(node.Value))
        {
            reader.Error(node.Location, $"invalid segment name '{node.Value}' ({Names.Hint})");
            return (node, false);
        }

        return (node, true);
    }

    private static (ListenAddress? Listen, string Text, SourceLocation Location) ReadListen(NodeReader reader, MappingReader map)
    {
        var node = reader.Scalar(map.Required("listen", WhereFile), "listen");
        if (node is null)
        {
            return (null, string.Empty, map.KeyLocation("listen"));
        }

        if (!ListenAddress.TryParse(node.Value, out var listen, out var error))
        {
            reader.Error(node.Location, $"listen '{node.Value}' {error}");
        }

        return (listen, node.Value, node.Location);
    }

    private static bool ReadSignIn(NodeReader reader, MappingReader map, ListenAddress? listen)
    {
        var node = map.Get("signIn");
        var signIn = reader.Bool(node, "signIn") ?? false;
        if (signIn && listen is { IsHttps: false } && !IsLoopback(listen))
        {
            // The session cookie and the authorization code would cross the network in the clear.
            reader.Error(node!.Location,
                $"'signIn' is true, but listen '{listen.Text}' is plain http on an address other machines reach; sign-in over plain " +
                "http is for loopback development only: use an https listen with 'tls', or 127.0.0.1, [::1] or localhost");
        }

        return signIn;
    }

    private static bool IsLoopback(ListenAddress listen) =>
        !listen.IsWildcard && listen.Addresses.Count > 0 && listen.Addresses.All(IPAddress.IsLoopback);

    /// <summary>
    /// Reports every route whose <c>match.path</c> is <see cref="ReservedPath"/> or lies below it, in any segment: the gateway
    /// answers those paths itself, before any route, so such a route could never be reached. Reads the written nodes, so
    /// that the error stands at the path's line.
    /// </summary>
    private static void CheckReservedPaths(NodeReader reader, Node? routes)
    {
        if (routes is not SequenceNode sequence)
        {
            return;
        }

        for (var i = 0; i < sequence.Items.Count; i++)
        {
            if (sequence.Items[i] is not MappingNode route
                || Value(route, "match") is not MappingNode match
                || Value(match, "path") is not ScalarNode { IsNull: false } path
                || !IsReserved(path.Value))
            {
                continue;
            }

            var where = Value(route, "id") is ScalarNode { IsNull: false } id ? $"route '{id.Value}'" : $"route {i + 1}";
            reader.Error(path.Location,
                $"{where}: path '{path.Value}' is reserved: {ReservedPath} and the paths below it are the gateway's sign-in endpoints");
        }
    }

    // Literal segments match ignoring case, so /.ZTGW/x would take requests for /.ztgw/x too.
    private static bool IsReserved(string path) =>
        path.Equals(ReservedPath, StringComparison.OrdinalIgnoreCase)
        || path.StartsWith(ReservedPath + "/", StringComparison.OrdinalIgnoreCase);

    private static Node? Value(MappingNode mapping, string key) =>
        mapping.Entries.FirstOrDefault(e => e.Key is ScalarNode k && k.Value == key)?.Value;

    private static (SegmentMembers Members, IReadOnlyList<ScalarNode> Workloads) ReadMembers(NodeReader reader, Node? node)
    {
        var map = reader.Mapping(node, "members");
        if (map is null)
        {
            return (new SegmentMembers(), []);
        }

        var workloads = reader.ScalarList(map.Get("workloads"), "members.workloads") ?? [];
        var members = new SegmentMembers
        {
            Workloads = [.. workloads.Select(w => w.Value)],
            Networks = reader.CidrList(map.Get("networks"), "members.networks") ?? [],
        };
        map.Complete("'members'");
        return (members, workloads);
    }

    private static RuleDefaults ReadDefaults(NodeReader reader, Node? node)
    {
        var defaults = new RuleDefaults();
        var map = reader.Mapping(node, "defaults");
        if (map is null)
        {
            return defaults;
        }

        defaults = defaults with
        {
            Mfa = RuleMapper.ReadMfa(reader, map.Get("mfa"), "defaults.mfa") ?? defaults.Mfa,
            Device = RuleMapper.ReadDevice(reader, map.Get("device"), "defaults.device") ?? defaults.Device,
            MaxAuthAge = reader.Duration(map.Get("maxAuthAge"), "defaults.maxAuthAge", positive: true) ?? defaults.MaxAuthAge,
        };
        map.Complete("'defaults'");
        return defaults;
    }

    private static FrozenDictionary<string, ServiceConfig> ReadServices(NodeReader reader, Node? node, string baseDirectory)
    {
        var services = new Dictionary<string, ServiceConfig>(StringComparer.Ordinal);
        var map = reader.Mapping(node, "services");
        if (map is null)
        {
            return services.ToFrozenDictionary(StringComparer.Ordinal);
        }

        foreach (var (key, value) in map.Entries())
        {
            if (!Names.IsValid(key.Value))
            {
                reader.Error(key.Location, $"invalid service name '{key.Value}' ({Names.Hint})");
            }

            services[key.Value] = ReadService(reader, key, value, baseDirectory);
        }

        map.Complete("'services'");
        return services.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static ServiceConfig ReadService(NodeReader reader, ScalarNode key, Node node, string baseDirectory)
    {
        var service = new ServiceConfig { Name = key.Value, Location = key.Location };
        var where = $"service '{key.Value}'";
        var scoped = reader.Scoped(where);
        var map = reader.Mapping(node, $"services.{key.Value}");
        if (map is null)
        {
            if (node is ScalarNode { IsNull: true })
            {
                reader.Error(key.Location, $"missing value for {where} (it needs at least 'destinations')");
            }

            return service;
        }

        var destinations = new List<string>();
        var destinationNodes = scoped.ScalarList(map.Required("destinations", where), "destinations");
        if (destinationNodes is { Count: 0 } && map.Get("destinations") is SequenceNode { Items.Count: 0 } emptyList)
        {
            scoped.Error(emptyList.Location, "'destinations' must name at least one URL");
        }

        foreach (var destination in destinationNodes ?? [])
        {
            if (HttpSyntax.IsHttpUrl(destination.Value))
            {
                destinations.Add(destination.Value);
            }
            else
            {
                scoped.Error(destination.Location, $"destination '{destination.Value}' must be an absolute http or https URL");
            }
        }

        var healthNode = scoped.Scalar(map.Get("healthCheck"), "healthCheck");
        if (healthNode is not null && !healthNode.Value.StartsWith('/'))
        {
            scoped.Error(healthNode.Location, $"'healthCheck' must be a path starting with '/', not '{healthNode.Value}'");
        }

        service = service with
        {
            Destinations = destinations,
            HealthCheck = healthNode?.Value,
            PassAuthorization = scoped.Bool(map.Get("passAuthorization"), "passAuthorization") ?? false,
            Identity = scoped.NonEmptyString(map.Get("identity"), "identity"),
            Tls = TlsMapper.ReadServiceTls(scoped, map, where, destinations, baseDirectory),
        };
        map.Complete(where);
        return service;
    }
}
