using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Engine;
using ZtGateway.Policy.Loading;
using ZtGateway.Policy.Loading.Yaml;

namespace ZtGateway.Policy.Analysis;

/// <summary>What a policy test case expects.</summary>
public sealed record PolicyTestExpectation
{
    /// <summary>True for <c>decision: allow</c>, false for <c>deny</c>. Required.</summary>
    public required bool Allowed { get; init; }

    /// <summary>The expected reason code; null does not check it.</summary>
    public ReasonCode? Reason { get; init; }

    /// <summary>Whether the rule is checked: true when <c>rule</c> is written (an empty value expects no rule).</summary>
    public bool ChecksRule { get; init; }

    /// <summary>The expected rule; null with <see cref="ChecksRule"/> expects that no rule decided.</summary>
    public string? Rule { get; init; }
}

/// <summary>One case of a policy test file.</summary>
public sealed record PolicyTestCase
{
    /// <summary>The case's name. Required, unique in the file.</summary>
    public required string Name { get; init; }

    /// <summary>The request, as attributes.</summary>
    public required RequestAttributes Request { get; init; }

    /// <summary>The instant the case is decided at; null for the file's, else the current time.</summary>
    public DateTimeOffset? At { get; init; }

    /// <summary>What the decision must be.</summary>
    public required PolicyTestExpectation Expect { get; init; }

    /// <summary>Where the case is written.</summary>
    public SourceLocation Location { get; init; } = SourceLocation.None;
}

/// <summary>A policy test file: operator-written expectations of the decision engine (<c>ztgw test</c>).</summary>
public sealed record PolicyTestSuite
{
    /// <summary>Absolute path of the test file.</summary>
    public required string FilePath { get; init; }

    /// <summary>Absolute path of the gateway.yaml named by <c>config</c>; null when the file names none.</summary>
    public string? ConfigPath { get; init; }

    /// <summary>The instant every case without its own <c>at</c> is decided at; null for the current time.</summary>
    public DateTimeOffset? At { get; init; }

    /// <summary>The cases, in file order.</summary>
    public required IReadOnlyList<PolicyTestCase> Cases { get; init; }

    /// <summary>
    /// Reads a policy test file. Like the policy loader, it never throws for bad input and reports every problem
    /// (unknown keys, bad values) with its position.
    /// </summary>
    public static PolicyTestSuiteLoadResult Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var diagnostics = new DiagnosticBag();
        var fullPath = NodeReader.ResolvePath(Directory.GetCurrentDirectory(), path) ?? path;
        string text;
        try
        {
            text = File.ReadAllText(fullPath, Encoding.UTF8);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            diagnostics.Error(new SourceLocation(fullPath, 1, 1), e is FileNotFoundException or DirectoryNotFoundException ? "file not found" : $"cannot read file: {e.Message}");
            return new PolicyTestSuiteLoadResult(null, diagnostics.Sorted());
        }

        var root = YamlTreeReader.Read(fullPath, text, diagnostics);
        var suite = root is null ? null : new PolicyTestFileReader(fullPath, new NodeReader(diagnostics)).Read(root);
        return new PolicyTestSuiteLoadResult(diagnostics.HasErrors ? null : suite, diagnostics.Sorted());
    }
}

/// <summary>The outcome of reading a policy test file.</summary>
public sealed record PolicyTestSuiteLoadResult(PolicyTestSuite? Suite, IReadOnlyList<Diagnostic> Diagnostics)
{
    /// <summary>True when the file was read without errors.</summary>
    public bool Succeeded => Suite is not null;
}

/// <summary>Maps the nodes of a policy test file, the way the policy loader maps segment files.</summary>
internal sealed partial class PolicyTestFileReader(string filePath, NodeReader reader)
{
    private readonly string baseDirectory = Path.GetDirectoryName(filePath) ?? filePath;

    public PolicyTestSuite? Read(Node root)
    {
        var map = reader.Mapping(root, "test file");
        if (map is null)
        {
            reader.Error(root.Location, $"the test file must be a mapping with 'cases', not {root.KindName}");
            return null;
        }

        var config = reader.ResolvedPath(map.Get("config"), "config", baseDirectory);
        var at = Instant(reader, map.Get("at"), "at");
        var cases = new List<PolicyTestCase>();
        var names = new Dictionary<string, SourceLocation>(StringComparer.Ordinal);
        var sequence = reader.Sequence(map.Required("cases", "test file"), "cases");
        if (sequence is { Items.Count: 0 })
        {
            reader.Error(sequence.Location, "'cases' must hold at least one case");
        }

        for (var i = 0; i < (sequence?.Items.Count ?? 0); i++)
        {
            if (ReadCase(sequence!.Items[i], i, names) is { } testCase)
            {
                cases.Add(testCase);
            }
        }

        map.Complete("test file");
        return new PolicyTestSuite { FilePath = filePath, ConfigPath = config, At = at, Cases = cases };
    }

    private PolicyTestCase? ReadCase(Node node, int index, Dictionary<string, SourceLocation> names)
    {
        var map = reader.Mapping(node, "cases entry");
        if (map is null)
        {
            if (node is ScalarNode { IsNull: true })
            {
                reader.Error(node.Location, "'cases' has an empty entry");
            }

            return null;
        }

        var nameNode = map.Get("name");
        var where = nameNode is ScalarNode { IsNull: false } written ? $"case '{written.Value}'" : $"case {index + 1}";
        var scoped = reader.Scoped(where);
        var name = scoped.NonEmptyString(map.Required("name", where), "name");
        if (name is not null && !names.TryAdd(name, nameNode!.Location))
        {
            reader.Error(nameNode.Location, $"duplicate case name '{name}' (first at line {names[name].Line})");
        }

        var request = ReadRequest(scoped, map.Required("request", where));
        var at = Instant(scoped, map.Get("at"), "at");
        var expect = ReadExpect(scoped, map.Required("expect", where));
        map.Complete(where);
        return name is null || request is null || expect is null
            ? null
            : new PolicyTestCase { Name = name, Request = request, At = at, Expect = expect, Location = map.Location };
    }

    private static RequestAttributes? ReadRequest(NodeReader scoped, Node? node)
    {
        var map = scoped.Mapping(node, "request");
        if (map is null)
        {
            return null;
        }

        var segment = scoped.NonEmptyString(map.Required("segment", "'request'"), "request.segment");
        var method = scoped.NonEmptyString(map.Get("method"), "request.method") ?? "GET";
        var pathNode = scoped.Scalar(map.Required("path", "'request'"), "request.path");
        if (pathNode is not null && !pathNode.Value.StartsWith('/'))
        {
            scoped.Error(pathNode.Location, $"'request.path' must start with '/', not '{pathNode.Value}'");
        }

        IPAddress? address = null;
        if (scoped.Scalar(map.Get("ip"), "request.ip") is { } ipNode && !IPAddress.TryParse(ipNode.Value, out address))
        {
            scoped.Error(ipNode.Location, $"'request.ip' must be an IP address, not '{ipNode.Value}'");
        }

        var user = ReadUser(scoped, map.Get("user"));
        var workload = scoped.NonEmptyString(map.Get("workload"), "request.workload");
        if (map.Has("user") && map.Has("workload"))
        {
            scoped.Error(map.KeyLocation("workload"), "a request has either 'user' or 'workload', not both");
        }

        var device = ReadDevice(scoped, map.Get("device"));
        var token = scoped.Choice(
            map.Get("token"),
            "request.token",
            ("valid", TokenStatus.Valid),
            ("missing", TokenStatus.Missing),
            ("invalid", TokenStatus.Invalid),
            ("expired", TokenStatus.Expired),
            ("revoked", TokenStatus.Revoked));
        var bound = scoped.Bool(map.Get("bound"), "request.bound") ?? false;
        map.Complete("'request'");
        if (segment is null || pathNode is null)
        {
            return null;
        }

        return new RequestAttributes
        {
            Segment = segment,
            Method = method.ToUpperInvariant(),
            Path = pathNode.Value,
            ClientAddress = address,
            User = user,
            Workload = user is null ? workload : null,
            Device = device,
            Token = token,
            Bound = bound,
        };
    }

    private static UserAttributes? ReadUser(NodeReader scoped, Node? node)
    {
        var map = scoped.Mapping(node, "request.user");
        if (map is null)
        {
            return null;
        }

        var user = new UserAttributes
        {
            Subject = scoped.NonEmptyString(map.Required("sub", "'request.user'"), "request.user.sub") ?? string.Empty,
            Groups = scoped.StringList(map.Get("groups"), "request.user.groups") ?? [],
            Roles = scoped.StringList(map.Get("roles"), "request.user.roles") ?? [],
            Amr = scoped.StringList(map.Get("amr"), "request.user.amr") ?? [],
            Acr = scoped.NonEmptyString(map.Get("acr"), "request.user.acr"),
            AuthAge = scoped.Duration(map.Get("authAge"), "request.user.authAge", positive: false) ?? TimeSpan.Zero,
        };
        map.Complete("'request.user'");
        return user;
    }

    private static DeviceAttributes? ReadDevice(NodeReader scoped, Node? node)
    {
        var map = scoped.Mapping(node, "request.device");
        if (map is null)
        {
            return null;
        }

        var device = new DeviceAttributes
        {
            Id = scoped.NonEmptyString(map.Get("id"), "request.device.id") ?? "device",
            Segment = scoped.NonEmptyString(map.Required("segment", "'request.device'"), "request.device.segment") ?? string.Empty,
            Compliant = scoped.Bool(map.Get("compliant"), "request.device.compliant") ?? false,
            Managed = scoped.Bool(map.Get("managed"), "request.device.managed") ?? false,
            Risk = scoped.Choice(map.Get("risk"), "request.device.risk", ("low", RiskLevel.Low), ("medium", RiskLevel.Medium), ("high", RiskLevel.High)) ?? RiskLevel.Low,
        };
        map.Complete("'request.device'");
        return device;
    }

    private static PolicyTestExpectation? ReadExpect(NodeReader scoped, Node? node)
    {
        var map = scoped.Mapping(node, "expect");
        if (map is null)
        {
            return null;
        }

        var allowed = scoped.Choice(map.Required("decision", "'expect'"), "expect.decision", ("allow", true), ("deny", false));
        ReasonCode? reason = null;
        if (scoped.Scalar(map.Get("reason"), "expect.reason") is { } reasonNode)
        {
            if (ReasonCodes.TryParse(reasonNode.Value, out var parsed))
            {
                reason = parsed;
            }
            else
            {
                scoped.Error(reasonNode.Location, $"'expect.reason' must be a reason code such as segment-not-allowed, not '{reasonNode.Value}'");
            }
        }

        var ruleNode = map.Get("rule");
        var rule = scoped.String(ruleNode, "expect.rule");
        map.Complete("'expect'");
        if (allowed is { } decision && reason is { } code && decision != (code == ReasonCode.Allowed))
        {
            scoped.Error(map.Location, $"'expect' says decision {(decision ? "allow" : "deny")} with reason {code.ToCode()}; they contradict each other");
        }

        return allowed is null
            ? null
            : new PolicyTestExpectation { Allowed = allowed.Value, Reason = reason, ChecksRule = ruleNode is not null, Rule = rule };
    }

    private static DateTimeOffset? Instant(NodeReader reader, Node? node, string name)
    {
        var scalar = reader.Scalar(node, name);
        if (scalar is null)
        {
            return null;
        }

        if (!IsoInstant().IsMatch(scalar.Value)
            || !DateTimeOffset.TryParse(scalar.Value, CultureInfo.InvariantCulture, DateTimeStyles.None, out var value))
        {
            reader.Error(scalar.Location, $"invalid {name} '{scalar.Value}' (use an ISO 8601 instant with an offset, e.g. 2026-06-01T12:00:00Z)");
            return null;
        }

        return value;
    }

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?([Zz]|[+-]\d{2}:\d{2})$", RegexOptions.CultureInvariant)]
    private static partial Regex IsoInstant();
}
