using Json.Schema;

namespace ZtGateway.Policy.Tests.Schema;

/// <summary>The segment schema knows the transport keys (<c>protocols</c>) and refuses what the loader refuses there.</summary>
public sealed class TransportSchemaTests
{
    private static readonly Lazy<JsonSchema> Segment = new(() =>
        JsonSchema.FromText(File.ReadAllText(Repository.PathOf("schema", "segment.schema.json")), new BuildOptions { SchemaRegistry = new SchemaRegistry() }));

    private static string Hr(string listen, string extra) => $"segment: hr\nlisten: {listen}\n{extra}\nroutes: []\n";

    [Theory]
    [InlineData("http://127.0.0.1:1", "protocols: [http1]")]
    [InlineData("http://127.0.0.1:1", "protocols: [http2]")]
    [InlineData("http://127.0.0.1:1", "")]
    public void Accepts(string listen, string extra)
    {
        Assert.True(IsValid(Hr(listen, extra)));
    }

    [Theory]
    [InlineData("http://127.0.0.1:1", "protocols: []")]
    [InlineData("http://127.0.0.1:1", "protocols: [http3]")]
    [InlineData("http://127.0.0.1:1", "protocols: [http1, http1]")]
    [InlineData("http://127.0.0.1:1", "protocols: http2")]
    [InlineData("http://127.0.0.1:1", "protocols: [http1, http2]")]
    public void Rejects(string listen, string extra)
    {
        Assert.False(IsValid(Hr(listen, extra)));
    }

    private static bool IsValid(string yaml) => Segment.Value.Evaluate(YamlJson.Convert(yaml)).IsValid;
}
