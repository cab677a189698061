using System.Net;
using ZtGateway.Policy.Configuration;

namespace ZtGateway.Benchmarks;

/// <summary>Builds policies of a chosen size in memory: every segment with the same shape of routes and rules.</summary>
internal static class SyntheticPolicy
{
    public static PolicySet Create(int segments, int routesPerSegment)
    {
        var map = new Dictionary<string, SegmentConfig>(StringComparer.Ordinal);
        for (var s = 0; s < segments; s++)
        {
            var name = "seg" + s;
            var neighbour = "seg" + ((s + 1) % segments);
            var routes = new List<PolicyRoute>(routesPerSegment);
            for (var r = 0; r < routesPerSegment; r++)
            {
                routes.Add(new PolicyRoute
                {
                    Id = $"r{r}",
                    Service = "svc",
                    Match = new RouteMatchConfig { Path = $"/app{r}/items/{{id}}/{{**rest}}", Methods = r % 2 == 0 ? ["GET"] : [] },
                    Allow =
                    [
                        new RuleConfig { Name = "staff", From = [name], Users = new UserSelector { Groups = [name + "-staff", "auditors"] } },
                        new RuleConfig { Name = "sync", From = [neighbour], Workloads = [$"spiffe://corp/{neighbour}/sync"] },
                    ],
                    Deny = [new RuleConfig { Name = "no-contractors", Users = new UserSelector { Groups = ["contractors"] } }],
                });
            }

            map[name] = new SegmentConfig
            {
                Name = name,
                Listen = $"http://127.0.0.1:{20000 + s}",
                FilePath = $"/bench/segments/{name}.yaml",
                Members = new SegmentMembers
                {
                    Workloads = [$"spiffe://corp/{name}/sync"],
                    Networks = [new IPNetwork(new IPAddress([10, (byte)(s / 256), (byte)(s % 256), 0]), 24)],
                },
                Defaults = new RuleDefaults { Device = DeviceRequirement.ManagedDevice },
                Services = new Dictionary<string, ServiceConfig> { ["svc"] = new() { Name = "svc", Destinations = ["http://127.0.0.1:9"] } },
                Routes = routes,
            };
        }

        return new PolicySet
        {
            Gateway = new GatewayConfig { FilePath = "/bench/gateway.yaml" },
            Segments = map,
            Version = $"synthetic-{segments}x{routesPerSegment}",
        };
    }
}
