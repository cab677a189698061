using Json.Schema;

namespace ZtGateway.Policy.Tests.Schema;

/// <summary>The segment schema knows the transport keys (<c>protocols</c>, <c>tls</c>, a service's <c>tls</c>) and refuses what the loader refuses there.</summary>
public sealed class TransportSchemaTests
{
    private static readonly Lazy<JsonSchema> Segment = new(() =>
        JsonSchema.FromText(File.ReadAllText(Repository.PathOf("schema", "segment.schema.json")), new BuildOptions { SchemaRegistry = new SchemaRegistry() }));

    private static string Hr(string listen, string extra) => $"segment: hr\nlisten: {listen}\n{extra}\nroutes: []\n";

    private const string Https = "https://127.0.0.1:1";
    private const string Tls = "tls:\n  certificate: certs/hr.pem\n  key: certs/hr.key\n";

    [Theory]
    [InlineData("http://127.0.0.1:1", "protocols: [http1]")]
    [InlineData("http://127.0.0.1:1", "protocols: [http2]")]
    [InlineData("http://127.0.0.1:1", "")]
    [InlineData(Https, Tls)]
    [InlineData(Https, Tls + "protocols: [http1, http2]")]
    [InlineData(Https, Tls + "  clientCertificates: required\n  clientCA: certs/ca.pem\n  minVersion: \"1.3\"")]
    [InlineData(Https, Tls + "  clientCertificates: none\n  minVersion: 1.2")]
    [InlineData("http://127.0.0.1:1", "services:\n  s:\n    destinations: [https://a:1]\n    tls: { ca: c.pem, clientCertificate: g.pem, clientKey: g.key }")]
    [InlineData("http://127.0.0.1:1", "services:\n  s:\n    destinations: [http://a:1, https://b:1]\n    tls: { ca: c.pem }")]
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
    [InlineData(Https, "")]
    [InlineData("http://127.0.0.1:1", Tls)]
    [InlineData(Https, "tls:\n  certificate: certs/hr.pem\n")]
    [InlineData(Https, Tls + "  clientCertificates: sometimes\n  clientCA: c.pem")]
    [InlineData(Https, Tls + "  clientCertificates: optional")]
    [InlineData(Https, Tls + "  clientCA: c.pem")]
    [InlineData(Https, Tls + "  minVersion: \"1.1\"")]
    [InlineData(Https, Tls + "  ciphers: [aes]")]
    [InlineData("http://127.0.0.1:1", "services:\n  s:\n    destinations: [http://a:1]\n    tls: { ca: c.pem }")]
    [InlineData("http://127.0.0.1:1", "services:\n  s:\n    destinations: [https://a:1]\n    tls: { clientCertificate: g.pem }")]
    [InlineData("http://127.0.0.1:1", "services:\n  s:\n    destinations: [https://a:1]\n    tls: { verify: false }")]
    public void Rejects(string listen, string extra)
    {
        Assert.False(IsValid(Hr(listen, extra)));
    }

    private static bool IsValid(string yaml) => Segment.Value.Evaluate(YamlJson.Convert(yaml)).IsValid;
}
