using Json.Schema;
using ZtGateway.Policy.Tests.Loading;

namespace ZtGateway.Policy.Tests.Schema;

/// <summary>The published JSON Schemas (schema/*.schema.json) accept every shipped sample and reject what the loader rejects.</summary>
public sealed class SchemaTests
{
    private static readonly Lazy<JsonSchema> Gateway = new(() => Load("gateway.schema.json"));
    private static readonly Lazy<JsonSchema> Segment = new(() => Load("segment.schema.json"));
    private static readonly Lazy<JsonSchema> PolicyTests = new(() => Load("policy-tests.schema.json"));

    public static TheoryData<string> SampleFiles()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(Repository.PathOf("config"), "*.yaml", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetRelativePath(Repository.Root, file));
        }

        return data;
    }

    [Fact]
    public void SampleFiles_AreFound()
    {
        // Guards the theories below against passing on an empty folder.
        Assert.True(SampleFiles().Count >= 5);
    }

    [Theory]
    [MemberData(nameof(SampleFiles))]
    public void SampleFile_ValidatesAgainstItsSchema(string file)
    {
        var text = File.ReadAllText(Path.Combine(Repository.Root, file));

        var errors = Validate(SchemaFor(file), text);

        Assert.True(errors.Count == 0, $"{file}:\n{string.Join('\n', errors)}");
    }

    [Theory]
    [MemberData(nameof(SampleFiles))]
    public void SampleFile_NamesItsSchemaOnTheFirstLine(string file)
    {
        var path = Path.Combine(Repository.Root, file);
        var first = File.ReadLines(path).First();
        const string Prefix = "# yaml-language-server: $schema=";

        Assert.StartsWith(Prefix, first, StringComparison.Ordinal);
        var schema = Path.GetFullPath(first[Prefix.Length..], Path.GetDirectoryName(path)!);
        Assert.Equal(Path.Combine(Repository.Root, "schema", SchemaName(file)), schema);
        Assert.True(File.Exists(schema), schema);
    }

    [Fact]
    public void LoaderSamples_WithEveryKey_Validate()
    {
        Assert.Empty(Validate(Gateway.Value, PolicySamples.FullGateway));
        Assert.Empty(Validate(Gateway.Value, PolicySamples.MinimalGateway));
        Assert.Empty(Validate(Segment.Value, PolicySamples.FullHr));
        Assert.Empty(Validate(Segment.Value, PolicySamples.FullFinance));
        Assert.Empty(Validate(Segment.Value, PolicySamples.MinimalHr));
    }

    [Theory]
    [InlineData("segment: hr\nlisten: http://127.0.0.1:1\nroutes: []\ncolour: blue\n")]
    [InlineData("segment: Hr\nlisten: http://127.0.0.1:1\nroutes: []\n")]
    [InlineData("segment: unknown\nlisten: http://127.0.0.1:1\nroutes: []\n")]
    [InlineData("segment: hr\nroutes: []\n")]
    [InlineData("segment: hr\nlisten: http://127.0.0.1:1\ndefaults: { mfa: sometimes }\nroutes: []\n")]
    [InlineData("segment: hr\nlisten: http://127.0.0.1:1\ndefaults: { maxAuthAge: soon }\nroutes: []\n")]
    [InlineData("segment: hr\nlisten: http://127.0.0.1:1\nservices: { s: { destinations: [] } }\nroutes: []\n")]
    [InlineData(RouteHeader + "      - { name: a, from: [hr], users: { groups: [g] }, workloads: [w] }\n")]
    [InlineData(RouteHeader + "      - { name: a, from: [hr] }\n")]
    [InlineData(RouteHeader + "      - { name: a, users: { groups: [g] } }\n")]
    [InlineData(RouteHeader + "      - { name: a, from: [hr], workloads: [w], mfa: optional }\n")]
    [InlineData(RouteHeader + "      - { name: a, from: [hr], users: { groups: [g] }, device: shiny }\n")]
    [InlineData(RouteHeader + "      - { name: a, from: [hr], users: { groups: [g] }, until: tomorrow }\n")]
    [InlineData(RouteHeader + "      - { name: a, from: [hr], users: { teams: [g] } }\n")]
    public void SegmentSchema_Rejects(string yaml)
    {
        Assert.NotEmpty(Validate(Segment.Value, yaml));
    }

    [Theory]
    [InlineData("identity: { issuers: [] }\n")]
    [InlineData("gateway: { policyDir: segments }\n")]
    [InlineData(Issuer + "unknownSection: {}\n")]
    [InlineData(Issuer + "audit: { allows: maybe }\n")]
    [InlineData(Issuer + "detection: { maxDenials: 0 }\n")]
    [InlineData(Issuer + "telemetry: { otlpProtocol: udp }\n")]
    [InlineData(Issuer + "device: { issuers: [ { issuer: x } ] }\n")]
    [InlineData("identity: { issuers: [ { name: a, type: oidc, audiences: [z] } ] }\n")]
    [InlineData("identity: { issuers: [ { name: a, type: jwks, issuer: i, jwksFile: k, tenantId: t, audiences: [z] } ] }\n")]
    public void GatewaySchema_Rejects(string yaml)
    {
        Assert.NotEmpty(Validate(Gateway.Value, yaml));
    }

    [Fact]
    public void PolicyTestsSchema_RejectsAnUnknownReason()
    {
        const string yaml = "cases:\n  - name: a\n    request: { segment: hr, path: /x }\n    expect: { decision: deny, reason: nope }\n";

        Assert.NotEmpty(Validate(PolicyTests.Value, yaml));
    }

    private const string RouteHeader = """
        segment: hr
        listen: http://127.0.0.1:1
        services: { s: { destinations: [http://127.0.0.1:2] } }
        routes:
          - id: r
            match: { path: /r }
            service: s
            allow:

        """;

    private const string Issuer = "identity: { issuers: [ { name: a, type: jwks, issuer: i, jwksFile: k, audiences: [z] } ] }\n";

    private static JsonSchema SchemaFor(string file) => SchemaName(file) switch
    {
        "gateway.schema.json" => Gateway.Value,
        "segment.schema.json" => Segment.Value,
        _ => PolicyTests.Value,
    };

    private static string SchemaName(string file) =>
        Path.GetFileName(file) == "gateway.yaml" ? "gateway.schema.json"
        : Path.GetFileName(Path.GetDirectoryName(file)) == "segments" ? "segment.schema.json"
        : "policy-tests.schema.json";

    private static List<string> Validate(JsonSchema schema, string yaml)
    {
        var result = schema.Evaluate(YamlJson.Convert(yaml), new EvaluationOptions { OutputFormat = OutputFormat.List });
        if (result.IsValid)
        {
            return [];
        }

        // Some keywords ('not') fail without a message of their own; the verdict still counts.
        List<string> errors = [.. (result.Details ?? []).Where(d => d.Errors is { Count: > 0 })
            .SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Key}: {e.Value}"))];
        return errors.Count > 0 ? errors : ["invalid"];
    }

    private static JsonSchema Load(string name) =>
        JsonSchema.FromText(File.ReadAllText(Repository.PathOf("schema", name)), new BuildOptions { SchemaRegistry = new SchemaRegistry() });
}
