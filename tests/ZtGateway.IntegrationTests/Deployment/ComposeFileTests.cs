using Microsoft.Extensions.Time.Testing;
using YamlDotNet.RepresentationModel;
using ZtGateway.Cli;
using ZtGateway.IntegrationTests.Infrastructure;
using ZtGateway.Policy.Loading;

namespace ZtGateway.IntegrationTests.Deployment;

/// <summary>
/// docker-compose.yml and the config it mounts stay in step: the gateway containers run <c>ztgw run</c> on a config
/// that <c>ztgw validate</c> accepts, one container per segment with that segment's port published, and every
/// service of a segment sits only on that segment's internal network.
/// </summary>
public sealed class ComposeFileTests
{
    private static readonly YamlMappingNode Compose = Load();

    private static YamlMappingNode Services => (YamlMappingNode)Compose["services"];

    private static IEnumerable<(string Name, YamlMappingNode Service, string[] Command)> Gateways() =>
        Services.Children
            .Select(c => (Name: ((YamlScalarNode)c.Key).Value!, Service: (YamlMappingNode)c.Value))
            .Select(s => (s.Name, s.Service, Command: Strings(s.Service, "command")))
            .Where(s => s.Command.FirstOrDefault() == "run");

    [Fact]
    public async Task MountedGatewayConfig_Validates()
    {
        var configs = Gateways().Select(g => HostPathOf(g.Service, Option(g.Command, "--config"))).Distinct().ToList();

        var config = Assert.Single(configs);
        Assert.True(File.Exists(config), config);
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        // The key files live in the containers' volumes (dev-idp writes them); everything else is checked here.
        var exit = await ZtgwCommand.InvokeAsync(["validate", "--config", config, "--no-key-files"], stdout, stderr);
        Assert.True(exit == 0, stderr.ToString());
    }

    [Fact]
    public void EverySegment_HasOneGatewayContainer_PublishingItsListener()
    {
        var gateways = Gateways().ToList();
        var config = HostPathOf(gateways[0].Service, Option(gateways[0].Command, "--config"));
        var policy = PolicyLoader.Load(config, new FakeTimeProvider(), new PolicyLoadOptions { KeyFiles = KeyFileCheck.Skip }).Policy!;

        Assert.Equal(policy.Segments.Keys.Order(), gateways.Select(g => Option(g.Command, "--segment")).Order());
        foreach (var (name, service, command) in gateways)
        {
            var segment = policy.Segments[Option(command, "--segment")];
            var port = new Uri(segment.Listen).Port;
            Assert.Contains(Strings(service, "ports"), p => p.EndsWith(":" + port, StringComparison.Ordinal));
            Assert.Contains(segment.Name, Strings(service, "networks"));
            Assert.True(segment.Listen.Contains("0.0.0.0", StringComparison.Ordinal), $"{name}: a container listener must not be loopback");
        }
    }

    [Fact]
    public void SegmentServices_AreOnlyOnTheirSegmentsInternalNetwork()
    {
        var gateway = Gateways().First();
        var policy = PolicyLoader.Load(HostPathOf(gateway.Service, Option(gateway.Command, "--config")), new FakeTimeProvider(), new PolicyLoadOptions { KeyFiles = KeyFileCheck.Skip }).Policy!;
        var networks = (YamlMappingNode)Compose["networks"];

        foreach (var segment in policy.Segments.Values)
        {
            var network = (YamlMappingNode)networks[segment.Name];
            Assert.Equal("true", ((YamlScalarNode)network["internal"]).Value);
            foreach (var destination in segment.Services.Values.SelectMany(s => s.Destinations))
            {
                var host = new Uri(destination).Host;
                var service = (YamlMappingNode)Services[host];
                Assert.Equal([segment.Name], Strings(service, "networks"));
                Assert.Empty(Strings(service, "ports"));
            }
        }
    }

    private static YamlMappingNode Load()
    {
        using var reader = new StreamReader(RepositoryFiles.PathOf("docker-compose.yml"));
        var stream = new YamlStream();
        stream.Load(reader);
        return (YamlMappingNode)stream.Documents[0].RootNode;
    }

    private static string[] Strings(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) && value is YamlSequenceNode sequence
            ? [.. sequence.Children.Cast<YamlScalarNode>().Select(s => s.Value!)]
            : [];

    private static string Option(string[] command, string option)
    {
        var index = Array.IndexOf(command, option);
        Assert.True(index >= 0 && index + 1 < command.Length, $"'{option}' missing in [{string.Join(' ', command)}]");
        return command[index + 1];
    }

    // Maps a path inside the container to the repository file behind a bind mount ("./HOST:CONTAINER[:ro]").
    private static string HostPathOf(YamlMappingNode service, string containerPath)
    {
        foreach (var volume in Strings(service, "volumes"))
        {
            var parts = volume.Split(':');
            if (!parts[0].StartsWith('.'))
            {
                continue;
            }

            var mountPoint = parts[1].TrimEnd('/') + "/";
            if (containerPath.StartsWith(mountPoint, StringComparison.Ordinal))
            {
                return Path.GetFullPath(Path.Combine(RepositoryFiles.Root, parts[0], containerPath[mountPoint.Length..]));
            }
        }

        throw new InvalidOperationException($"no bind mount holds {containerPath}");
    }
}
