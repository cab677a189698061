using Json.Schema;
using ZtGateway.Policy.Tests.Loading;

namespace ZtGateway.Policy.Tests.Schema;

/// <summary>The gateway schema knows the <c>type: otlp</c> audit sink and refuses what the loader refuses there.</summary>
public sealed class AuditSinksSchemaTests
{
    private static readonly Lazy<JsonSchema> Gateway = new(() =>
        JsonSchema.FromText(File.ReadAllText(Repository.PathOf("schema", "gateway.schema.json")), new BuildOptions { SchemaRegistry = new SchemaRegistry() }));

    private const string Issuer = "identity: { issuers: [ { name: a, type: jwks, issuer: i, jwksFile: k, audiences: [z] } ] }\n";

    [Theory]
    [InlineData("[stdout, \"file:a.jsonl\"]")]
    [InlineData("[ { type: otlp, endpoint: \"http://127.0.0.1:4318\" } ]")]
    [InlineData("[ \"file:a.jsonl\", { type: otlp, endpoint: \"https://c.corp:4317\", protocol: grpc, headers: { x-api-key: \"k=v\" }, ca: ca.pem, maxQueue: 5 } ]")]
    [InlineData("[ { type: otlp, endpoint: \"http://c:4318/custom/logs\", protocol: http/protobuf } ]")]
    public void Accepts(string sinks)
    {
        Assert.True(IsValid("audit: { sinks: " + sinks + " }\n" + Issuer));
    }

    [Theory]
    [InlineData("[ { type: syslog, endpoint: \"http://c:4318\" } ]")]
    [InlineData("[ { type: otlp } ]")]
    [InlineData("[ { endpoint: \"http://c:4318\" } ]")]
    [InlineData("[ { type: otlp, endpoint: \"ftp://c\" } ]")]
    [InlineData("[ { type: otlp, endpoint: \"http://u:p@c:4318\" } ]")]
    [InlineData("[ { type: otlp, endpoint: \"http://c:4318?a=b\" } ]")]
    [InlineData("[ { type: otlp, endpoint: \"http://c:4318\", protocol: http/json } ]")]
    [InlineData("[ { type: otlp, endpoint: \"http://c:4318\", maxQueue: 0 } ]")]
    [InlineData("[ { type: otlp, endpoint: \"http://c:4318\", headers: { \"x key\": v } } ]")]
    [InlineData("[ { type: otlp, endpoint: \"http://c:4318\", headers: { x-key: \"\" } } ]")]
    [InlineData("[ { type: otlp, endpoint: \"http://c:4318\", batch: 5 } ]")]
    [InlineData("[ syslog ]")]
    public void Rejects(string sinks)
    {
        Assert.False(IsValid("audit: { sinks: " + sinks + " }\n" + Issuer));
    }

    [Fact]
    public void TheLoaderAccepts_WhatTheSchemaAccepts()
    {
        const string audit = "audit: { sinks: [ \"file:a.jsonl\", { type: otlp, endpoint: \"https://c.corp:4317\", protocol: grpc, headers: { x-api-key: \"k=v\" }, ca: ca.pem, maxQueue: 5 } ] }\n";
        using var folder = PolicySamples.Minimal().Write("gateway.yaml", audit + PolicySamples.MinimalGateway);

        var result = folder.Load();

        Assert.True(IsValid(audit + Issuer));
        Assert.True(result.Succeeded, folder.FormatAll(result));
    }

    private static bool IsValid(string yaml) => Gateway.Value.Evaluate(YamlJson.Convert(yaml)).IsValid;
}
