using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Loading.Values;
using ZtGateway.Policy.Loading.Yaml;

namespace ZtGateway.Policy.Loading;

/// <summary>What the loader needs from gateway.yaml besides the config itself, with positions for later checks.</summary>
/// <param name="Config">The mapped file; only meaningful when no error was recorded.</param>
/// <param name="PolicyDirLocation">Where <c>gateway.policyDir</c> is written, or the nearest enclosing mapping.</param>
/// <param name="PolicyDirUsable">False when <c>policyDir</c> was malformed, so segment files cannot be looked for.</param>
/// <param name="ManagementListen">The parsed management listener; null when disabled or malformed.</param>
internal sealed record GatewayFile(
    GatewayConfig Config,
    SourceLocation PolicyDirLocation,
    bool PolicyDirUsable,
    ListenAddress? ManagementListen)
{
    /// <summary>Where each key file is named, for <see cref="KeyFiles.Check"/>.</summary>
    public KeyLocations KeyLocations { get; init; } = new();

    /// <summary>False when the file was not a mapping (only defaults were taken).</summary>
    public bool Mapped { get; init; }

    /// <summary>
    /// True when the file writes a <c>signIn:</c> section, valid or not: a broken one has its own errors, and a segment's
    /// <c>signIn: true</c> is then not reported as well.
    /// </summary>
    public bool SignInWritten { get; init; }
}

/// <summary>Maps the nodes of gateway.yaml (docs/design.md section 2.1) to <see cref="GatewayConfig"/>.</summary>
internal sealed partial class GatewayFileMapper
{
    private const string WhereFile = "gateway file";

    private readonly NodeReader reader;
    private readonly string filePath;
    private readonly string baseDirectory;
    private readonly KeyLocations keyLocations = new();

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
                ManagementListen: null);
        }

        var map = reader.Mapping(root, WhereFile)!;
        var (gateway, policyDirLocation, policyDirUsable, management) = ReadGateway(map.Get("gateway"), map.Location);
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
            Admin = ReadAdmin(map.Get("admin")),
            Detection = ReadDetection(map.Get("detection")),
            Audit = ReadAudit(map.Get("audit")),
            SignIn = ReadSignIn(map.Get("signIn"), identity.Issuers),
        };
        map.Complete(WhereFile);
        return new GatewayFile(config, policyDirLocation, policyDirUsable, management)
        {
            KeyLocations = keyLocations,
            Mapped = true,
            SignInWritten = signInWritten,
        };
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

    private (GatewaySettings Settings, SourceLocation PolicyDirLocation, bool PolicyDirUsable, ListenAddress? Management) ReadGateway(
        Node? node,
        SourceLocation rootLocation)
    {
        var settings = DefaultGateway();
        var listen = ListenAddress.TryParse(settings.Management.Listen, out var parsedDefault, out _) ? parsedDefault : null;
        var map = reader.Mapping(node, "gateway");
        if (map is null)
        {
            return (settings, node?.Location ?? rootLocation, node is null or ScalarNode { IsNull: true }, listen);
        }

        var policyDirNode = map.Get("policyDir");
        var policyDir = reader.ResolvedPath(policyDirNode, "gateway.policyDir", baseDirectory);
        var policyDirUsable = policyDir is not null || policyDirNode is null or ScalarNode { IsNull: true };
        var policyDirLocation = policyDir is null ? map.Location : policyDirNode!.Location;

        var management = settings.Management;
        var managementMap = reader.Mapping(map.Get("management"), "gateway.management");
        if (managementMap is not null)
        {
            var listenNode = reader.Scalar(managementMap.Get("listen"), "gateway.management.listen");
            if (listenNode is not null)
            {
                listen = null;
                if (listenNode.Value.Length > 0 && !ListenAddress.TryParse(listenNode.Value, out listen, out var error))
                {
                    reader.Error(listenNode.Location, $"gateway.management.listen '{listenNode.Value}' {error}");
                }
                else if (listen is { IsHttps: true })
                {
                    // The management listener has no certificate of its own: it serves plain http on a network only operators reach.
                    reader.Error(listenNode.Location,
                        $"gateway.management.listen '{listenNode.Value}' is https, but the management listener serves plain http only; use an http URL");
                    listen = null;
                }

                management = new ManagementSettings { Listen = listenNode.Value };
            }

            managementMap.Complete("'gateway.management'");
        }

        settings = settings with
        {
            PolicyDir = policyDir ?? settings.PolicyDir,
            TrustedProxies = reader.CidrList(map.Get("trustedProxies"), "gateway.trustedProxies") ?? settings.TrustedProxies,
            StateDir = reader.ResolvedPath(map.Get("stateDir"), "gateway.stateDir", baseDirectory) ?? settings.StateDir,
            Management = management,
            Limits = ReadLimits(map.Get("limits")),
            SharedState = ReadSharedState(map.Get("sharedState")),
        };
        map.Complete("'gateway'");
        return (settings, policyDirLocation, policyDirUsable, listen);
    }

    private AssertionSettings ReadAssertion(Node? node)
    {
        var defaults = new AssertionSettings();
        var settings = defaults with { SigningKeyFile = Resolve(defaults.SigningKeyFile) };
        keyLocations.SigningKey = node?.Location ?? new SourceLocation(filePath, 1, 1);
        var map = reader.Mapping(node, "assertion");
        if (map is null)
        {
            return settings;
        }

        if (map.Has("signingKeyFile"))
        {
            keyLocations.SigningKey = map.KeyLocation("signingKeyFile");
        }

        settings = settings with
        {
            Header = reader.HeaderName(map.Get("header"), "assertion.header") ?? settings.Header,
            Issuer = reader.NonEmptyString(map.Get("issuer"), "assertion.issuer") ?? settings.Issuer,
            SigningKeyFile = reader.ResolvedPath(map.Get("signingKeyFile"), "assertion.signingKeyFile", baseDirectory) ?? settings.SigningKeyFile,
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

    private AdminSettings? ReadAdmin(Node? node)
    {
        var map = reader.Mapping(node, "admin");
        if (map is null)
        {
            return null;
        }

        var issuerNode = map.Required("issuer", "'admin'");
        var issuer = reader.NonEmptyString(issuerNode, "admin.issuer");
        if (issuer is not null && !issuerNames.ContainsKey(issuer))
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

    private string Resolve(string path) => NodeReader.ResolvePath(baseDirectory, path) ?? path;
}
