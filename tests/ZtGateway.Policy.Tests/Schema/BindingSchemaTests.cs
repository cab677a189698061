using Json.Schema;

namespace ZtGateway.Policy.Tests.Schema;

/// <summary>The schemas know <c>identity.workloadCertificates</c>, <c>boundToken</c>, <c>request.bound</c> and <c>token-unbound</c>.</summary>
public sealed class BindingSchemaTests
{
    private static readonly Lazy<JsonSchema> Gateway = new(() => Load("gateway.schema.json"));
    private static readonly Lazy<JsonSchema> Segment = new(() => Load("segment.schema.json"));
    private static readonly Lazy<JsonSchema> PolicyTests = new(() => Load("policy-tests.schema.json"));

    private const string Issuers = "identity:\n  issuers: [ { name: a, type: jwks, issuer: i, jwksFile: k, audiences: [z] } ]\n";

    private const string Route = """
        segment: hr
        listen: http://127.0.0.1:1
        services: { s: { destinations: [http://127.0.0.1:2] } }
        routes:
          - id: r
            match: { path: /r }
            service: s

        """;

    [Theory]
    [InlineData("trustDomains: [corp.example]", true)]
    [InlineData("trustDomains: [corp.example, partner_1.example-2]", true)]
    [InlineData("trustDomains: []", false)]
    [InlineData("trustDomains: [Corp.Example]", false)]
    [InlineData("trustDomains: [\"corp.example:443\"]", false)]
    [InlineData("trustDomains: [corp.example, corp.example]", false)]
    [InlineData("bundle: x", false)]
    public void Gateway_WorkloadCertificates(string keys, bool valid)
    {
        Assert.Equal(valid, IsValid(Gateway.Value, Issuers + "  workloadCertificates: { " + keys + " }\n"));
    }

    [Theory]
    [InlineData("    allow:\n      - { name: a, from: [hr], users: { groups: [g] }, boundToken: true }\n", true)]
    [InlineData("    allow:\n      - { name: a, from: [hr], workloads: [w], boundToken: true }\n", true)]
    [InlineData("    allow:\n      - { name: a, from: [hr], users: { groups: [g] }, boundToken: sometimes }\n", false)]
    [InlineData("    allow:\n      - { name: a, from: [hr], users: { groups: [g] } }\n    deny:\n      - { name: d, users: { groups: [x] }, boundToken: true }\n", false)]
    public void Segment_BoundToken(string rules, bool valid)
    {
        Assert.Equal(valid, IsValid(Segment.Value, Route + rules));
    }

    [Theory]
    [InlineData("bound: true", "token-unbound", true)]
    [InlineData("bound: false", "allowed", true)]
    [InlineData("bound: yes", "allowed", false)]
    public void PolicyTests_BoundAndTokenUnbound(string bound, string reason, bool valid)
    {
        var yaml = $"cases:\n  - name: a\n    request: {{ segment: hr, path: /x, workload: w, {bound} }}\n    expect: {{ decision: deny, reason: {reason} }}\n";

        Assert.Equal(valid, IsValid(PolicyTests.Value, yaml));
    }

    private static bool IsValid(JsonSchema schema, string yaml) => schema.Evaluate(YamlJson.Convert(yaml)).IsValid;

    private static JsonSchema Load(string name) =>
        JsonSchema.FromText(File.ReadAllText(Repository.PathOf("schema", name)), new BuildOptions { SchemaRegistry = new SchemaRegistry() });
}
