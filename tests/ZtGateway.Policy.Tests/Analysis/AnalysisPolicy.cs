using Microsoft.Extensions.Time.Testing;
using ZtGateway.Policy.Engine;
using ZtGateway.Policy.Loading;
using ZtGateway.Policy.Tests.Loading;

namespace ZtGateway.Policy.Tests.Analysis;

/// <summary>Policies for the analysis tests, written as YAML and loaded by the real loader.</summary>
internal static class AnalysisPolicy
{
    public static readonly DateTimeOffset Now = new(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);

    /// <summary>Loads gateway.yaml plus the given segment files and compiles an engine at <see cref="Now"/>.</summary>
    public static PolicyEngine Engine(IReadOnlyDictionary<string, string> segments, DateTimeOffset? at = null)
    {
        using var folder = new PolicyFolder().Write("gateway.yaml", PolicySamples.MinimalGateway);
        foreach (var (name, yaml) in segments)
        {
            folder.Write($"segments/{name}.yaml", yaml);
        }

        var time = new FakeTimeProvider(at ?? Now);
        var result = PolicyLoader.Load(folder.GatewayFile, time, new PolicyLoadOptions { KeyFiles = KeyFileCheck.Skip });
        Assert.True(result.Succeeded, string.Join('\n', result.Diagnostics.Select(d => d.Format(folder.Root))));
        return new PolicyEngine(result.Policy!, time);
    }

    /// <summary>
    /// Three segments and a two-hop workload chain: alpha's web-agent may call beta's api, whose service runs as
    /// beta's api-worker, which may call gamma's db. Everything else is a decoy the chain must not reach.
    /// </summary>
    public static Dictionary<string, string> Chain() => new()
    {
        ["alpha"] = """
            segment: alpha
            listen: http://127.0.0.1:0
            members:
              workloads: [spiffe://t/alpha/web-agent]
              networks: [10.1.0.0/16]
            services:
              web:
                destinations: [http://127.0.0.1:7001]
                identity: spiffe://t/alpha/web-agent
            routes:
              - id: web
                match: { path: "/web/{**rest}" }
                service: web
                allow:
                  - name: alpha-staff
                    from: [alpha]
                    users: { groups: [alpha-staff] }
            """,
        ["beta"] = """
            segment: beta
            listen: http://127.0.0.1:0
            members:
              workloads: [spiffe://t/beta/api-worker]
              networks: [10.2.0.0/16]
            services:
              api:
                destinations: [http://127.0.0.1:7002]
                identity: spiffe://t/beta/api-worker
              admin:
                destinations: [http://127.0.0.1:7003]
            routes:
              - id: api
                match: { path: "/api/{**rest}", methods: [GET, POST] }
                service: api
                allow:
                  - name: web-agent
                    from: [alpha]
                    workloads: [spiffe://t/alpha/web-agent]
                    methods: [GET]
              - id: admin
                match: { path: "/admin/{**rest}" }
                service: admin
                allow:
                  - name: beta-admins
                    from: [beta]
                    users: { roles: [BetaAdmin] }
                  - name: web-agent-wrong-source
                    from: [beta]
                    workloads: [spiffe://t/alpha/web-agent]
            """,
        ["gamma"] = """
            segment: gamma
            listen: http://127.0.0.1:0
            members:
              workloads: [spiffe://t/gamma/db-engine]
              networks: [10.3.0.0/16]
            services:
              db:
                destinations: [http://127.0.0.1:7004]
                identity: spiffe://t/gamma/db-engine
              vault:
                destinations: [http://127.0.0.1:7005]
            routes:
              - id: db
                match: { path: "/db/{**rest}" }
                service: db
                allow:
                  - name: api-worker
                    from: [beta]
                    workloads: [spiffe://t/beta/api-worker]
              - id: vault
                match: { path: "/vault/{**rest}" }
                service: vault
                allow:
                  - name: api-worker-old-grant
                    from: [beta]
                    workloads: [spiffe://t/beta/api-worker]
                    until: 2026-01-01T00:00:00Z
                  - name: web-agent-barred
                    from: [alpha]
                    workloads: [spiffe://t/alpha/web-agent]
                deny:
                  - name: no-alpha
                    from: [alpha]
                    workloads: [spiffe://t/alpha/web-agent]
            """,
    };
}
