using Json.Schema;
using ZtGateway.Policy.Tests.Loading;

namespace ZtGateway.Policy.Tests.Schema;

/// <summary>The gateway schema knows <c>gateway.limits</c> and refuses what the loader refuses there.</summary>
public sealed class LimitsSchemaTests
{
    private static readonly Lazy<JsonSchema> Gateway = new(() =>
        JsonSchema.FromText(File.ReadAllText(Repository.PathOf("schema", "gateway.schema.json")), new BuildOptions { SchemaRegistry = new SchemaRegistry() }));

    private const string Issuer = "identity: { issuers: [ { name: a, type: jwks, issuer: i, jwksFile: k, audiences: [z] } ] }\n";

    [Theory]
    [InlineData("refusalsPerSource: 50/s, refusalBurst: 100")]
    [InlineData("refusalsPerSource: 600/m")]
    [InlineData("refusalsPerSource: off")]
    [InlineData("refusalBurst: 1")]
    public void Accepts(string limits)
    {
        Assert.True(IsValid("gateway: { limits: { " + limits + " } }\n" + Issuer));
    }

    [Theory]
    [InlineData("refusalsPerSource: 50")]
    [InlineData("refusalsPerSource: 50/h")]
    [InlineData("refusalsPerSource: 0/s")]
    [InlineData("refusalsPerSource: Off")]
    [InlineData("refusalBurst: 0")]
    [InlineData("refusalBurst: lots")]
    [InlineData("refusalsPerSecond: 50")]
    public void Rejects(string limits)
    {
        Assert.False(IsValid("gateway: { limits: { " + limits + " } }\n" + Issuer));
    }

    [Fact]
    public void TheLoaderAccepts_WhatTheSchemaAccepts()
    {
        using var folder = PolicySamples.Minimal().Write("gateway.yaml", "gateway: { limits: { refusalsPerSource: 600/m, refusalBurst: 7 } }\n" + PolicySamples.MinimalGateway);

        var result = folder.Load();

        Assert.True(result.Succeeded, folder.FormatAll(result));
    }

    private static bool IsValid(string yaml) => Gateway.Value.Evaluate(YamlJson.Convert(yaml)).IsValid;
}
