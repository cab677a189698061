using System.Reflection;
using NetArchTest.Rules;
using ZtGateway.Hosting;
using ZtGateway.Policy.Engine;

namespace ZtGateway.Tests.Architecture;

/// <summary>
/// The layering of docs/architecture.md, checked on the compiled assemblies (every type reference in signatures and
/// method bodies): a layer may use the layers below it and never one above. A new import that breaks the
/// order fails here with the names of the types that made it.
/// </summary>
public sealed class LayeringTests
{
    private static readonly Assembly Runtime = typeof(GatewayHost).Assembly;

    private static readonly Assembly Policy = typeof(PolicyEngine).Assembly;

    /// <summary>Namespace, then the namespaces it must not use.</summary>
    public static TheoryData<string, string[]> Layers => new()
    {
        // Audit and telemetry are written to by everyone and know nobody: they take plain event records.
        { "ZtGateway.Audit", ["ZtGateway.Runtime", "ZtGateway.Sources", "ZtGateway.Enforcement", "ZtGateway.Management", "ZtGateway.Hosting", "ZtGateway.Telemetry", "ZtGateway.Transport"] },
        { "ZtGateway.Telemetry", ["ZtGateway.Runtime", "ZtGateway.Sources", "ZtGateway.Enforcement", "ZtGateway.Management", "ZtGateway.Hosting", "ZtGateway.Audit", "ZtGateway.Transport"] },
        // What every long-lived part shares: the live policy view and the status of the process.
        { "ZtGateway.Runtime", ["ZtGateway.Sources", "ZtGateway.Enforcement", "ZtGateway.Management", "ZtGateway.Hosting", "ZtGateway.Transport"] },
        // Listener TLS, client certificates and upstream TLS: below the host that composes them, beside the PIPs and the PEP.
        { "ZtGateway.Transport", ["ZtGateway.Sources", "ZtGateway.Enforcement", "ZtGateway.Management", "ZtGateway.Hosting"] },
        // The information sources (PIPs) never reach up into the enforcement point, the admin plane or the host.
        { "ZtGateway.Sources", ["ZtGateway.Enforcement", "ZtGateway.Management", "ZtGateway.Hosting"] },
        // The continuous-evaluation store is fed by signals and detection; it does not know them.
        { "ZtGateway.Sources.Continuous", ["ZtGateway.Sources.Signals", "ZtGateway.Sources.Detection"] },
        // Its feeds do not know each other: the host builds each over the store.
        { "ZtGateway.Sources.Signals", ["ZtGateway.Sources.Detection"] },
        { "ZtGateway.Sources.Detection", ["ZtGateway.Sources.Signals"] },
        { "ZtGateway.Sources.Keys", ["ZtGateway.Sources.Identity", "ZtGateway.Sources.Device", "ZtGateway.Sources.Continuous", "ZtGateway.Sources.Signals", "ZtGateway.Sources.Detection"] },
        // The enforcement point (PEP) uses the sources and the decision engine; the admin plane and the host use it.
        { "ZtGateway.Enforcement", ["ZtGateway.Management", "ZtGateway.Hosting"] },
        { "ZtGateway.Management", ["ZtGateway.Hosting"] },
    };

    [Theory]
    [MemberData(nameof(Layers))]
    public void Layer_DoesNotUse_TheLayersAboveIt(string layer, string[] forbidden)
    {
        var types = Types.InAssembly(Runtime).That().ResideInNamespace(layer);
        Assert.NotEmpty(types.GetTypes()); // a renamed namespace must not pass by matching nothing

        var result = types.ShouldNot().HaveDependencyOnAny(forbidden).GetResult();

        Assert.True(result.IsSuccessful,
            $"{layer} uses {string.Join(" or ", forbidden)} in: {string.Join(", ", result.FailingTypeNames ?? [])}");
    }

    [Fact]
    public void EveryRuntimeType_IsInALayer()
    {
        string[] layers = ["ZtGateway.Audit", "ZtGateway.Telemetry", "ZtGateway.Runtime", "ZtGateway.Sources", "ZtGateway.Enforcement",
            "ZtGateway.Management", "ZtGateway.Hosting", "ZtGateway.Transport"];
        var outside = Runtime.GetTypes()
            .Where(t => t.Namespace is { } ns && ns.StartsWith("ZtGateway", StringComparison.Ordinal))
            .Where(t => !layers.Any(l => t.Namespace == l || t.Namespace!.StartsWith(l + ".", StringComparison.Ordinal)))
            .Select(t => t.FullName)
            .ToList();

        Assert.Empty(outside);
    }

    [Theory]
    [InlineData("ZtGateway.DevTools")]
    [InlineData("ZtGateway.SampleService")]
    [InlineData("ztgw")]
    [InlineData("System.CommandLine")]
    public void Runtime_DoesNotReference(string assembly)
    {
        Assert.DoesNotContain(Runtime.GetReferencedAssemblies(), a => a.Name == assembly);
        var result = Types.InAssembly(Runtime).ShouldNot().HaveDependencyOn(assembly == "ztgw" ? "ZtGateway.Cli" : assembly).GetResult();
        Assert.True(result.IsSuccessful, string.Join(", ", result.FailingTypeNames ?? []));
    }

    [Theory]
    [InlineData(typeof(ZtGateway.KeySets.JsonWebKeySetCache), "ztgw")]
    [InlineData(typeof(ZtGateway.KeySets.JsonWebKeySetCache), "ZtGateway")]
    [InlineData(typeof(ZtGateway.KeySets.JsonWebKeySetCache), "ZtGateway.Policy")]
    [InlineData(typeof(ZtGateway.KeySets.JsonWebKeySetCache), "ZtGateway.Upstream")]
    [InlineData(typeof(ZtGateway.Upstream.ZtGatewayAssertionOptions), "ZtGateway")]
    [InlineData(typeof(ZtGateway.Upstream.ZtGatewayAssertionOptions), "ZtGateway.Policy")]
    [InlineData(typeof(GatewayHost), "ZtGateway.Upstream")]
    public void Libraries_StandOnTheirOwn(Type library, string assembly) =>
        Assert.DoesNotContain(library.Assembly.GetReferencedAssemblies(), a => a.Name == assembly);

    [Theory]
    [InlineData("ZtGateway.Sources")]
    [InlineData("ZtGateway.Enforcement")]
    [InlineData("ZtGateway.Hosting")]
    [InlineData("Microsoft.AspNetCore")]
    [InlineData("Yarp")]
    public void DecisionEngine_KnowsNothingOfHttpOrTheGateway(string forbidden)
    {
        Assert.DoesNotContain(Policy.GetReferencedAssemblies(), a => a.Name!.StartsWith(forbidden, StringComparison.Ordinal));
        var result = Types.InAssembly(Policy).ShouldNot().HaveDependencyOn(forbidden).GetResult();
        Assert.True(result.IsSuccessful, string.Join(", ", result.FailingTypeNames ?? []));
    }
}
