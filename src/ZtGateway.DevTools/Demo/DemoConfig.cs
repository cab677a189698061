namespace ZtGateway.DevTools.Demo;

/// <summary>The demo network's policy, written as ordinary gateway.yaml and segment files.</summary>
internal static class DemoConfig
{
    public const string AssertionIssuer = "https://ztgw.demo";
    public const string PostureIssuer = "https://posture.demo";
    public const string EdrIssuer = "https://edr.demo";

    /// <summary>The segments, each served by its own gateway.</summary>
    public static readonly string[] Segments = ["finance", "hr", "engineering"];

    public static string GatewayFile(string segment) => $"gateway-{segment}.yaml";

    public static string AuditFile(string segment) => $"audit-{segment}.jsonl";

    /// <summary>
    /// Writes one gateway.yaml per segment (own state folder, management port and audit file, the same policy folder
    /// and shared state) and the segment files they all load.
    /// </summary>
    public static void Write(string directory, string idpAuthority, IReadOnlyDictionary<string, int> ports, string redis, string prefix)
    {
        foreach (var segment in Segments)
        {
            File.WriteAllText(Path.Combine(directory, GatewayFile(segment)), $$"""
                # Written by `ztgw demo`: the gateway of the {{segment}} segment (`ztgw run --config {{GatewayFile(segment)}} --segment {{segment}}`).
                # The loopback stands in for every network: the demo's client says where it is calling from with
                # X-Forwarded-For, which the gateway believes only from the trusted proxy range.
                gateway:
                  policyDir: segments
                  trustedProxies: [127.0.0.0/8]
                  stateDir: state-{{segment}}
                  management:
                    listen: http://127.0.0.1:{{ports["management-" + segment]}}
                  sharedState:
                    redis: "{{YamlEscape(redis)}}"
                    prefix: {{prefix}}
                identity:
                  issuers:
                    - name: dev
                      type: oidc
                      authority: {{idpAuthority}}
                      audiences: [ztgw]
                      requireHttpsMetadata: false
                device:
                  maxAge: 15m
                  issuers:
                    - issuer: {{PostureIssuer}}
                      jwksFile: keys/posture.jwks.json
                assertion:
                  issuer: {{AssertionIssuer}}
                  signingKeyFile: keys/gateway-signing.pem
                signals:
                  transmitters:
                    - issuer: {{EdrIssuer}}
                      jwksFile: keys/edr.jwks.json
                      audience: ztgw
                admin:
                  issuer: dev
                  role: ZtGatewayAdmin
                detection:
                  window: 10m
                  maxDenials: 5
                  maxSegments: 2
                  learningPeriod: 0s
                  response: alert
                audit:
                  sinks: ["file:{{AuditFile(segment)}}"]
                """);
        }

        File.WriteAllText(Path.Combine(directory, "segments", "finance.yaml"), $$"""
            segment: finance
            description: Finance systems
            listen: http://127.0.0.1:{{ports["finance"]}}
            members:
              workloads: [{{DemoNetwork.LedgerSync}}]
              networks: [10.10.0.0/16]
            services:
              ledger:
                destinations: [http://127.0.0.1:{{ports["ledger"]}}]
                healthCheck: /healthz
                identity: {{DemoNetwork.LedgerSync}}
            routes:
              - id: ledger-read
                match: { path: "/ledger/{**rest}", methods: [GET] }
                service: ledger
                allow:
                  - { name: finance-staff, from: [finance], users: { groups: [finance-staff] } }
            """);

        File.WriteAllText(Path.Combine(directory, "segments", "hr.yaml"), $$"""
            segment: hr
            description: Human resources systems
            listen: http://127.0.0.1:{{ports["hr"]}}
            members:
              workloads: [spiffe://corp.example/hr/payroll-engine]
              networks: [10.20.0.0/16]
            services:
              payroll:
                destinations: [http://127.0.0.1:{{ports["payroll"]}}]
                healthCheck: /healthz
                identity: spiffe://corp.example/hr/payroll-engine
            routes:
              - id: payroll-read
                match: { path: "/payroll/{**rest}", methods: [GET] }
                service: payroll
                allow:
                  - { name: hr-staff, from: [hr], users: { groups: [hr-staff] } }
                  - name: ledger-sync
                    from: [finance]
                    workloads: [{{DemoNetwork.LedgerSync}}]
                    until: 2099-01-01T00:00:00Z
              - id: payroll-admin
                match: { path: "/payroll/admin/{**rest}" }
                service: payroll
                allow:
                  - name: payroll-admins
                    from: [hr]
                    users: { roles: [PayrollAdmin] }
                    maxAuthAge: 15m
                    device: { compliant: true, managed: true, maxRisk: low }
            """);

        File.WriteAllText(Path.Combine(directory, "segments", "engineering.yaml"), $$"""
            segment: engineering
            description: Engineering systems
            listen: http://127.0.0.1:{{ports["engineering"]}}
            members:
              workloads: [spiffe://corp.example/engineering/ci-runner]
              networks: [10.30.0.0/16]
            defaults:
              device: managed
            services:
              builds:
                destinations: [http://127.0.0.1:{{ports["builds"]}}]
                healthCheck: /healthz
            routes:
              - id: builds
                match: { path: "/builds/{**rest}" }
                service: builds
                allow:
                  - { name: engineers, from: [engineering], users: { groups: [engineers] } }
            """);
    }

    // A YAML double-quoted scalar: the configuration string is the operator's (--redis) and may hold any character.
    private static string YamlEscape(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);
}
