using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Loading.Values;
using ZtGateway.Policy.Loading.Yaml;

namespace ZtGateway.Policy.Loading;

/// <summary>What the loader needs from gateway.yaml besides the config itself, with positions for later checks.</summary>
/// <param name="Config">The mapped file; only meaningful when no error was recorded.</param>
/// <param name="PolicyDirLocation">Where <c>gateway.policyDir</c> is written, or the nearest enclosing mapping.</param>
/// <param name="PolicyDirUsable">False when <c>policyDir</c> was malformed, so segment files cannot be looked for.</param>
/// <param name="ManagementListen">The parsed management listener; null when disabled or malformed.</param>
/// <param name="ManagementListenLocation">Where <c>gateway.management.listen</c> is written.</param>
internal sealed record GatewayFile(
    GatewayConfig Config,
    SourceLocation PolicyDirLocation,
    bool PolicyDirUsable,
    ListenAddress? ManagementListen,
    SourceLocation ManagementListenLocation);

/// <summary>Maps the nodes of gateway.yaml (DESIGN.md 2.1) to <see cref="GatewayConfig"/>.</summary>
internal sealed class GatewayFileMapper
{
    private const string WhereFile = "gateway file";
    private static readonly TimeSpan MaxClockSkew = TimeSpan.FromMinutes(5);

    private readonly NodeReader reader;
    private readonly string filePath;
    private readonly string baseDirectory;

    private GatewayFileMapper(NodeReader reader, string filePath)
    {
        this.reader = reader;
        this.filePath = filePath;
        baseDirectory = System.IO.Path.GetDirectoryName(filePath) ?? filePath;
    }

    /// <summary>Maps <paramref name="root"/>; null (a file that did not parse) yields the defaults.</summary>
    public static GatewayFile Map(string filePath, Node? root, DiagnosticBag diagnostics) =>
        new GatewayFileMapper(new NodeReader(diagnostics), filePath).Map(root);

    private GatewayFile Map(Node? root)
    {
        var rootLocation = new SourceLocation(filePath, 1, 1);
        if (root is not MappingNode)
        {
            if (root is not null)
            {
                reader.Error(root.Location, $"the gateway file must be a mapping of sections, not {root.KindName}");
            }

            return new GatewayFile(
                new GatewayConfig { FilePath = filePath, Gateway = DefaultGateway() },
                rootLocation,
                PolicyDirUsable: false,
                ManagementListen: null,
                rootLocation);
        }

        var map = reader.Mapping(root, WhereFile)!;
        var (gateway, policyDirLocation, policyDirUsable, management, managementLocation) = ReadGateway(map.Get("gateway"), map.Location);
        var identity = ReadIdentity(map);
        var config = new GatewayConfig
        {
            FilePath = filePath,
            Gateway = gateway,
            Identity = identity,
            Device = ReadDevice(map.Get("device")),
            Assertion = ReadAssertion(map.Get("assertion")),
            Telemetry = ReadTelemetry(map.Get("telemetry")),
            Signals = ReadSignals(map.Get("signals")),
            Admin = ReadAdmin(map.Get("admin"), identity),
            Detection = ReadDetection(map.Get("detection")),
            Audit = ReadAudit(map.Get("audit")),
        };
        map.Complete(WhereFile);
        return new GatewayFile(config, policyDirLocation, policyDirUsable, management, managementLocation);
    }

    private GatewaySettings DefaultGateway()
    {
        var defaults = new GatewaySettings();
        return defaults with
        {
            PolicyDir = Resolve(defaults.PolicyDir),
            StateDir = Resolve(defaults.StateDir),
        };
    }

    private (GatewaySettings, SourceLocation, bool, ListenAddress?, SourceLocation) ReadGateway(Node? node, SourceLocation rootLocation)
    {
        var settings = DefaultGateway();
        var listen = ListenAddress.TryParse(settings.Management.Listen, out var parsedDefault, out _) ? parsedDefault : null;
        var map = reader.Mapping(node, "gateway");
        if (map is null)
        {
            return (settings, node?.Location ?? rootLocation, node is null or ScalarNode { IsNull: true }, listen, rootLocation);
        }

        var policyDirNode = map.Get("policyDir");
        var policyDir = reader.Path(policyDirNode, "gateway.policyDir", baseDirectory);
        var policyDirUsable = policyDir is not null || policyDirNode is null or ScalarNode { IsNull: true };
        var policyDirLocation = policyDir is null ? map.Location : policyDirNode!.Location;

        var management = settings.Management;
        var managementLocation = map.Location;
        var managementMap = reader.Mapping(map.Get("management"), "gateway.management");
        if (managementMap is not null)
        {
            managementLocation = managementMap.Location;
            var listenNode = reader.Scalar(managementMap.Get("listen"), "gateway.management.listen");
            if (listenNode is not null)
            {
                managementLocation = listenNode.Location;
                listen = null;
                if (listenNode.Value.Length > 0 && !ListenAddress.TryParse(listenNode.Value, out listen, out var error))
                {
                    reader.Error(listenNode.Location, $"gateway.management.listen '{listenNode.Value}' {error}");
                }

                management = new ManagementSettings { Listen = listenNode.Value };
            }

            managementMap.Complete("'gateway.management'");
        }

        settings = settings with
        {
            PolicyDir = policyDir ?? settings.PolicyDir,
            TrustedProxies = reader.CidrList(map.Get("trustedProxies"), "gateway.trustedProxies") ?? settings.TrustedProxies,
            StateDir = reader.Path(map.Get("stateDir"), "gateway.stateDir", baseDirectory) ?? settings.StateDir,
            Management = management,
        };
        map.Complete("'gateway'");
        return (settings, policyDirLocation, policyDirUsable, listen, managementLocation);
    }

    private IdentitySettings ReadIdentity(MappingReader root)
    {
        var settings = new IdentitySettings();
        var node = root.Get("identity");
        if (node is null or ScalarNode { IsNull: true })
        {
            reader.Error(root.Location, $"missing required key 'identity' in {WhereFile} (at least one token issuer is needed)");
            return settings;
        }

        var map = reader.Mapping(node, "identity");
        if (map is null)
        {
            return settings;
        }

        var issuers = new List<IssuerConfig>();
        var issuersNode = map.Required("issuers", "'identity'");
        var sequence = reader.Sequence(issuersNode, "identity.issuers");
        if (sequence is { Items.Count: 0 })
        {
            reader.Error(sequence.Location, "'identity.issuers' must name at least one issuer");
        }

        var names = new Dictionary<string, SourceLocation>(StringComparer.Ordinal);
        for (var i = 0; i < (sequence?.Items.Count ?? 0); i++)
        {
            if (ReadIssuer(sequence!.Items[i], i, names) is { } issuer)
            {
                issuers.Add(issuer);
            }
        }

        settings = settings with
        {
            Issuers = issuers,
            MfaMethods = reader.NonEmptyStringList(map.Get("mfaMethods"), "identity.mfaMethods", "method") ?? settings.MfaMethods,
            ClockSkew = reader.Duration(map.Get("clockSkew"), "identity.clockSkew", positive: false, MaxClockSkew, "5m") ?? settings.ClockSkew,
        };
        map.Complete("'identity'");
        return settings;
    }

    private IssuerConfig? ReadIssuer(Node node, int index, Dictionary<string, SourceLocation> names)
    {
        var map = reader.Mapping(node, "identity.issuers entry");
        if (map is null)
        {
            if (node is ScalarNode { IsNull: true })
            {
                reader.Error(node.Location, "'identity.issuers' has an empty entry");
            }

            return null;
        }

        var nameNode = map.Get("name");
        var where = nameNode is ScalarNode { IsNull: false } written ? $"issuer '{written.Value}'" : $"identity.issuers entry {index + 1}";
        var scoped = reader.Scoped(where);
        var name = scoped.NonEmptyString(map.Required("name", where), "name");
        if (name is not null && !names.TryAdd(name, nameNode!.Location))
        {
            reader.Error(nameNode.Location, $"duplicate issuer name '{name}' (first at line {names[name].Line})");
        }

        var type = scoped.Choice(map.Required("type", where), "type", ("entra", IssuerType.Entra), ("oidc", IssuerType.Oidc), ("jwks", IssuerType.Jwks));
        var audiences = scoped.NonEmptyStringList(map.Required("audiences", where), "audiences", "audience") ?? [];
        var requireHttps = scoped.Bool(map.Get("requireHttpsMetadata"), "requireHttpsMetadata") ?? true;

        string? instance = null, tenantId = null, authority = null, issuer = null, jwksFile = null;
        switch (type)
        {
            case IssuerType.Entra:
                NotApplicable(map, scoped, "entra", "authority", "issuer", "jwksFile");
                instance = Authority(scoped, map.Get("instance"), "instance", requireHttps) ?? "https://login.microsoftonline.com/";
                tenantId = scoped.NonEmptyString(map.Required("tenantId", where), "tenantId");
                break;
            case IssuerType.Oidc:
                NotApplicable(map, scoped, "oidc", "instance", "tenantId", "issuer", "jwksFile");
                authority = Authority(scoped, map.Required("authority", where), "authority", requireHttps);
                break;
            case IssuerType.Jwks:
                NotApplicable(map, scoped, "jwks", "instance", "tenantId", "authority", "requireHttpsMetadata");
                issuer = scoped.NonEmptyString(map.Required("issuer", where), "issuer");
                jwksFile = scoped.Path(map.Required("jwksFile", where), "jwksFile", baseDirectory);
                break;
            default:
                // Without a valid type the type-specific keys cannot be judged; still accept them as known.
                foreach (var key in new[] { "instance", "tenantId", "authority", "issuer", "jwksFile" })
                {
                    map.Get(key);
                }

                break;
        }

        map.Complete(where);
        return name is null || type is null
            ? null
            : new IssuerConfig
            {
                Name = name,
                Type = type.Value,
                Instance = instance,
                TenantId = tenantId,
                Authority = authority,
                Issuer = issuer,
                JwksFile = jwksFile,
                Audiences = audiences,
                RequireHttpsMetadata = requireHttps,
                Location = map.Location,
            };
    }

    private static void NotApplicable(MappingReader map, NodeReader scoped, string type, params string[] keys)
    {
        foreach (var key in keys)
        {
            if (map.Get(key) is not null)
            {
                scoped.Error(map.KeyLocation(key), $"'{key}' does not apply to an issuer of type {type}");
            }
        }
    }

    private static string? Authority(NodeReader scoped, Node? node, string name, bool requireHttps)
    {
        var url = scoped.HttpUrl(node, name);
        if (url is not null && requireHttps && HttpSyntax.IsPlainHttp(url))
        {
            scoped.Error(node!.Location, $"'{name}' uses plain http ('{url}'); set requireHttpsMetadata: false to allow it (development only)");
            return null;
        }

        return url;
    }

    private DeviceSettings ReadDevice(Node? node)
    {
        var settings = new DeviceSettings();
        var map = reader.Mapping(node, "device");
        if (map is null)
        {
            return settings;
        }

        settings = settings with
        {
            Header = reader.HeaderName(map.Get("header"), "device.header") ?? settings.Header,
            Audience = reader.NonEmptyString(map.Get("audience"), "device.audience") ?? settings.Audience,
            MaxAge = reader.Duration(map.Get("maxAge"), "device.maxAge", positive: true) ?? settings.MaxAge,
            Issuers = ReadKeySources(map.Get("issuers"), "device.issuers", "device issuer", needsAudience: false),
        };
        map.Complete("'device'");
        return settings;
    }

    private List<KeySourceConfig> ReadKeySources(Node? node, string listName, string kind, bool needsAudience)
    {
        var result = new List<KeySourceConfig>();
        var sequence = reader.Sequence(node, listName);
        for (var i = 0; i < (sequence?.Items.Count ?? 0); i++)
        {
            var item = sequence!.Items[i];
            var map = reader.Mapping(item, $"{listName} entry");
            if (map is null)
            {
                if (item is ScalarNode { IsNull: true })
                {
                    reader.Error(item.Location, $"'{listName}' has an empty entry");
                }

                continue;
            }

            var where = map.Get("issuer") is ScalarNode { IsNull: false } written ? $"{kind} '{written.Value}'" : $"{listName} entry {i + 1}";
            var scoped = reader.Scoped(where);
            var issuer = scoped.NonEmptyString(map.Required("issuer", where), "issuer");
            var jwksFile = scoped.Path(map.Get("jwksFile"), "jwksFile", baseDirectory);
            var jwksUri = scoped.HttpUrl(map.Get("jwksUri"), "jwksUri");
            var hasFile = map.Has("jwksFile");
            var hasUri = map.Has("jwksUri");
            if (!hasFile && !hasUri)
            {
                reader.Error(map.Location, $"{where} needs exactly one of 'jwksFile' or 'jwksUri'");
            }
            else if (hasFile && hasUri)
            {
                var later = map.KeyLocation("jwksFile").Line > map.KeyLocation("jwksUri").Line ? "jwksFile" : "jwksUri";
                reader.Error(map.KeyLocation(later), $"{where} sets both 'jwksFile' and 'jwksUri'; keep one");
            }

            string? audience = null;
            if (needsAudience)
            {
                audience = scoped.NonEmptyString(map.Required("audience", where), "audience");
            }

            map.Complete(where);
            if (issuer is not null)
            {
                result.Add(new KeySourceConfig
                {
                    Issuer = issuer,
                    JwksFile = jwksFile,
                    JwksUri = jwksUri,
                    Audience = audience,
                    Location = map.Location,
                });
            }
        }

        return result;
    }

    private AssertionSettings ReadAssertion(Node? node)
    {
        var defaults = new AssertionSettings();
        var settings = defaults with { SigningKeyFile = Resolve(defaults.SigningKeyFile) };
        var map = reader.Mapping(node, "assertion");
        if (map is null)
        {
            return settings;
        }

        settings = settings with
        {
            Header = reader.HeaderName(map.Get("header"), "assertion.header") ?? settings.Header,
            Issuer = reader.NonEmptyString(map.Get("issuer"), "assertion.issuer") ?? settings.Issuer,
            SigningKeyFile = reader.Path(map.Get("signingKeyFile"), "assertion.signingKeyFile", baseDirectory) ?? settings.SigningKeyFile,
            Lifetime = reader.Duration(map.Get("lifetime"), "assertion.lifetime", positive: true) ?? settings.Lifetime,
        };
        map.Complete("'assertion'");
        return settings;
    }

    private TelemetrySettings ReadTelemetry(Node? node)
    {
        var settings = new TelemetrySettings();
        var map = reader.Mapping(node, "telemetry");
        if (map is null)
        {
            return settings;
        }

        var endpointNode = reader.Scalar(map.Get("otlpEndpoint"), "telemetry.otlpEndpoint");
        var endpoint = endpointNode?.Value;
        if (endpointNode is not null && endpoint!.Length > 0 && !HttpSyntax.IsHttpUrl(endpoint))
        {
            reader.Error(endpointNode.Location, $"'telemetry.otlpEndpoint' must be empty or an absolute http or https URL, not '{endpoint}'");
        }

        var protocolNode = reader.Scalar(map.Get("otlpProtocol"), "telemetry.otlpProtocol");
        if (protocolNode is not null && protocolNode.Value is not ("grpc" or "http/protobuf"))
        {
            reader.Error(protocolNode.Location, $"'telemetry.otlpProtocol' must be grpc or http/protobuf, not '{protocolNode.Value}'");
        }

        settings = settings with
        {
            ServiceName = reader.NonEmptyString(map.Get("serviceName"), "telemetry.serviceName") ?? settings.ServiceName,
            OtlpEndpoint = endpoint ?? settings.OtlpEndpoint,
            OtlpProtocol = protocolNode?.Value ?? settings.OtlpProtocol,
        };
        map.Complete("'telemetry'");
        return settings;
    }

    private SignalsSettings ReadSignals(Node? node)
    {
        var settings = new SignalsSettings();
        var map = reader.Mapping(node, "signals");
        if (map is null)
        {
            return settings;
        }

        settings = settings with
        {
            Transmitters = ReadKeySources(map.Get("transmitters"), "signals.transmitters", "signal transmitter", needsAudience: true),
        };
        map.Complete("'signals'");
        return settings;
    }

    private AdminSettings? ReadAdmin(Node? node, IdentitySettings identity)
    {
        var map = reader.Mapping(node, "admin");
        if (map is null)
        {
            return null;
        }

        var issuerNode = map.Required("issuer", "'admin'");
        var issuer = reader.NonEmptyString(issuerNode, "admin.issuer");
        if (issuer is not null && !identity.Issuers.Any(i => i.Name == issuer))
        {
            reader.Error(issuerNode!.Location, $"'admin.issuer' names '{issuer}', which is not an entry of identity.issuers");
        }

        var role = reader.NonEmptyString(map.Required("role", "'admin'"), "admin.role");
        map.Complete("'admin'");
        return issuer is null || role is null ? null : new AdminSettings { Issuer = issuer, Role = role };
    }

    private DetectionSettings ReadDetection(Node? node)
    {
        var settings = new DetectionSettings();
        var map = reader.Mapping(node, "detection");
        if (map is null)
        {
            return settings;
        }

        settings = settings with
        {
            Window = reader.Duration(map.Get("window"), "detection.window", positive: true) ?? settings.Window,
            MaxDenials = reader.PositiveInt(map.Get("maxDenials"), "detection.maxDenials") ?? settings.MaxDenials,
            MaxSegments = reader.PositiveInt(map.Get("maxSegments"), "detection.maxSegments") ?? settings.MaxSegments,
            MaxRoutes = reader.PositiveInt(map.Get("maxRoutes"), "detection.maxRoutes") ?? settings.MaxRoutes,
            LearningPeriod = reader.Duration(map.Get("learningPeriod"), "detection.learningPeriod", positive: false) ?? settings.LearningPeriod,
            Response = reader.Choice(map.Get("response"), "detection.response", ("alert", DetectionResponse.Alert), ("contain", DetectionResponse.Contain)) ?? settings.Response,
            ContainFor = reader.Duration(map.Get("containFor"), "detection.containFor", positive: true) ?? settings.ContainFor,
        };
        map.Complete("'detection'");
        return settings;
    }

    private AuditSettings ReadAudit(Node? node)
    {
        var settings = new AuditSettings();
        var map = reader.Mapping(node, "audit");
        if (map is null)
        {
            return settings;
        }

        var sinksNode = map.Get("sinks");
        var sinks = reader.ScalarList(sinksNode, "audit.sinks");
        if (sinks is not null)
        {
            if (sinksNode is SequenceNode { Items.Count: 0 })
            {
                reader.Error(sinksNode.Location, "'audit.sinks' must name at least one sink (stdout or file:PATH)");
            }

            var resolved = new List<string>(sinks.Count);
            foreach (var sink in sinks)
            {
                if (ReadSink(sink) is { } value)
                {
                    resolved.Add(value);
                }
            }

            settings = settings with { Sinks = resolved };
        }

        settings = settings with { Allows = reader.Bool(map.Get("allows"), "audit.allows") ?? settings.Allows };
        map.Complete("'audit'");
        return settings;
    }

    private string? ReadSink(ScalarNode sink)
    {
        const string FilePrefix = "file:";
        if (sink.Value == "stdout")
        {
            return sink.Value;
        }

        if (sink.Value.StartsWith(FilePrefix, StringComparison.Ordinal))
        {
            var path = sink.Value[FilePrefix.Length..];
            if (path.Trim().Length > 0 && NodeReader.ResolvePath(baseDirectory, path) is { } full)
            {
                return FilePrefix + full;
            }

            reader.Error(sink.Location, $"audit sink '{sink.Value}' needs a file path after 'file:'");
            return null;
        }

        reader.Error(sink.Location, $"audit sink '{sink.Value}' must be stdout or file:PATH");
        return null;
    }

    private string Resolve(string path) => NodeReader.ResolvePath(baseDirectory, path) ?? path;
}
