using Json.Schema;

namespace ZtGateway.Policy.Tests.Schema;

/// <summary>The gateway schema knows <c>audit.spool</c> and refuses the sizes and keys the loader refuses by their form.</summary>
public sealed class AuditSpoolSchemaTests
{
    private static readonly Lazy<JsonSchema> Gateway = new(() =>
        JsonSchema.FromText(File.ReadAllText(Repository.PathOf("schema", "gateway.schema.json")), new BuildOptions { SchemaRegistry = new SchemaRegistry() }));

    private const string Issuer = "identity: { issuers: [ { name: a, type: jwks, issuer: i, jwksFile: k, audiences: [z] } ] }\n";

    [Theory]
    [InlineData("{ }")]
    [InlineData("{ path: state/a.spool }")]
    [InlineData("{ size: 32MiB }")]
    [InlineData("{ size: 1024KiB, path: /var/lib/ztgw/a.spool }")]
    [InlineData("{ size: 4GiB }")]
    public void Accepts(string spool)
    {
        Assert.True(IsValid("audit: { spool: " + spool + " }\n" + Issuer));
    }

    [Theory]
    [InlineData("{ size: 32MB }")]
    [InlineData("{ size: 32 }")]
    [InlineData("{ size: 0MiB }")]
    [InlineData("{ size: 1234567890KiB }")]
    [InlineData("{ path: \" \" }")]
    [InlineData("{ off: true }")]
    [InlineData("[ a ]")]
    public void Rejects(string spool)
    {
        Assert.False(IsValid("audit: { spool: " + spool + " }\n" + Issuer));
    }

    private static bool IsValid(string yaml) => Gateway.Value.Evaluate(YamlJson.Convert(yaml)).IsValid;
}
