namespace ZtGateway.Policy.Tests.Loading;

/// <summary>
/// Broken policies, each one file of the minimal sample replaced, each with the one diagnostic it must produce, exactly
/// as <c>ztgw validate</c> prints it.
/// </summary>
public sealed class PolicyLoaderRejectsTests
{
    private const string Issuers = """
        identity:
          issuers:
            - name: corp
              type: jwks
              issuer: https://idp.example
              jwksFile: keys/idp.jwks.json
              audiences: [ztgw]
        """;

    public static TheoryData<string, string, string> Cases => new()
    {
        {
            "gateway.yaml",
            """
            identity:
              mfaMethods: [mfa]
            """,
            "gateway.yaml:2:3: error: missing required key 'issuers' in 'identity'"
        },
        {
            "gateway.yaml",
            """
            gateway:
              stateDir: state
            """,
            "gateway.yaml:1:1: error: missing required key 'identity' in gateway file (at least one token issuer is needed)"
        },
        {
            "gateway.yaml",
            """
            identity:
              issuers:
                - name: dev
                  type: oidc
                  authority: http://127.0.0.1:5556
                  audiences: [ztgw]
            """,
            "gateway.yaml:5:18: error: issuer 'dev': 'authority' uses plain http ('http://127.0.0.1:5556'); set requireHttpsMetadata: false to allow it (development only)"
        },
        {
            "gateway.yaml",
            "gateway:\n  policyDir: empty\n" + Issuers,
            "gateway.yaml:2:14: error: policy folder 'empty' holds no segment files (*.yaml or *.yml)"
        },
        {
            "gateway.yaml",
            Issuers + "\n  clockSkew: 30s\n  clockSkew: 60s\n",
            "gateway.yaml:9:3: error: duplicate key 'clockSkew' in 'identity' (first at line 8)"
        },
        {
            "gateway.yaml",
            Issuers + "\n  clockSkew: 30\n",
            "gateway.yaml:8:14: error: invalid duration '30' for 'identity.clockSkew' (use e.g. 30s, 15m, 12h)"
        },
        {
            "gateway.yaml",
            Issuers + "\n  clockSkew: 10m\n",
            "gateway.yaml:8:14: error: 'identity.clockSkew' must be at most 5m, not '10m'"
        },
        {
            "gateway.yaml",
            "gateway:\n  trustedProxies: [10.0.0.1/8]\n" + Issuers,
            "gateway.yaml:2:20: error: invalid CIDR '10.0.0.1/8' in 'gateway.trustedProxies': host bits are set (use 10.0.0.0/8)"
        },
        {
            "gateway.yaml",
            "gateway:\n  management:\n    listen: http://0.0.0.0:8081\n" + Issuers,
            "segments/finance.yaml:2:9: error: listen 'http://127.0.0.1:8081' overlaps the management listener 'http://0.0.0.0:8081' (gateway.yaml)"
        },
        {
            "gateway.yaml",
            Issuers + "\nadmin:\n  issuer: corpp\n  role: ZtGatewayAdmin\n",
            "gateway.yaml:9:11: error: 'admin.issuer' names 'corpp', which is not an entry of identity.issuers"
        },
        {
            "gateway.yaml",
            Issuers + "\naudit:\n  sinks: stdout\n",
            "gateway.yaml:9:10: error: 'audit.sinks' must be a list, not a single value"
        },
        {
            "gateway.yaml",
            """
            identity:
              issuers:
                - name: corp
                  type: jwks
                 issuer: https://idp.example
            """,
            "gateway.yaml:5:6: error: invalid YAML: while parsing a block collection, did not find expected '-' indicator"
        },
        {
            "segments/hr.yaml",
            """
            segment: hr
            decription: Human resources
            listen: http://127.0.0.1:8082
            services:
              payroll:
                destinations: [http://127.0.0.1:7102]
            routes:
              - id: payroll-read
                match: { path: "/payroll/{**rest}" }
                service: payroll
                allow:
                  - name: hr-staff
                    from: [hr]
                    users: { groups: [hr-staff] }
            """,
            "segments/hr.yaml:2:1: error: unknown key 'decription' in segment file"
        },
        {
            "segments/hr.yaml",
            """
            segment: hr
            listen: http://127.0.0.1:8082
            services:
              payroll:
                destinations: [http://127.0.0.1:7102]
            listen: http://127.0.0.1:8083
            routes:
              - id: payroll-read
                match: { path: "/payroll/{**rest}" }
                service: payroll
                allow:
                  - name: hr-staff
                    from: [hr]
                    users: { groups: [hr-staff] }
            """,
            "segments/hr.yaml:6:1: error: duplicate key 'listen' in segment file (first at line 2)"
        },
        {
            "segments/hr.yaml",
            """
            segment: hr
            listen: http://127.0.0.1:8082
            services:
              payroll:
                destinations: [http://127.0.0.1:7102]
            routes:
              - id: payroll-read
                match: { path: "/payroll/{**rest}" }
                service: payrol
                allow:
                  - name: hr-staff
                    from: [hr]
                    users: { groups: [hr-staff] }
            """,
            "segments/hr.yaml:9:14: error: route 'payroll-read': service 'payrol' is not defined in this file"
        },
        {
            "segments/hr.yaml",
            """
            segment: hr
            listen: http://127.0.0.1:8082
            services:
              payroll:
                destinations: [http://127.0.0.1:7102]
            routes:
              - id: payroll-read
                match: { path: "/payroll/{**rest}" }
                service: payroll
                allow: [{ name: hr-staff, from: [hr], users: { groups: [hr-staff] } }]
              - id: payroll-read
                match: { path: "/pay/{**rest}" }
                service: payroll
                allow: [{ name: hr-staff, from: [hr], users: { groups: [hr-staff] } }]
            """,
            "segments/hr.yaml:11:9: error: duplicate route id 'payroll-read' (first at line 7)"
        },
        {
            "segments/hr.yaml",
            """
            segment: hr
            listen: http://127.0.0.1:8082
            services:
              payroll:
                destinations: [http://127.0.0.1:7102]
            routes:
              - id: payroll-read
                match: { path: "/payroll/{**rest}" }
                service: payroll
                allow:
                  - name: hr-staff
                    from: [hr]
                    users: { groups: [hr-staff] }
                deny:
                  - name: hr-staff
                    users: { groups: [contractors] }
            """,
            "segments/hr.yaml:15:15: error: duplicate rule name 'hr-staff' in route 'payroll-read' (first at line 11)"
        },
        {
            "segments/hr.yaml",
            """
            segment: hr
            listen: http://127.0.0.1:8082
            services:
              payroll:
                destinations: [http://127.0.0.1:7102]
            routes:
              - id: payroll-read
                match: { path: "/payroll/{**rest}" }
                service: payroll
                allow:
                  - name: hr-staff
                    from: [hr, hrr]
                    users: { groups: [hr-staff] }
            """,
            "segments/hr.yaml:12:20: error: rule 'hr-staff': from names unknown segment 'hrr'"
        },
        {
            "segments/hr.yaml",
            """
            segment: hr
            listen: http://127.0.0.1:8082
            members:
              networks: [10.20.0.0/16, 10.30.0.0/33]
            services:
              payroll:
                destinations: [http://127.0.0.1:7102]
            routes:
              - id: payroll-read
                match: { path: "/payroll/{**rest}" }
                service: payroll
                allow:
                  - name: hr-staff
                    from: [hr]
                    users: { groups: [hr-staff] }
            """,
            "segments/hr.yaml:4:28: error: invalid CIDR '10.30.0.0/33' in 'members.networks'"
        },
        {
            "segments/hr.yaml",
            """
            segment: hr
            listen: http://127.0.0.1:8082
            services:
              payroll:
                destinations: [http://127.0.0.1:7102]
            routes:
              - id: payroll-read
                match: { path: "/payroll/{**rest}" }
                service: payroll
                allow:
                  - name: hr-staff
                    from: [hr]
                    users: { groups: [hr-staff] }
                    maxAuthAge: 15 minutes
            """,
            "segments/hr.yaml:14:21: error: rule 'hr-staff': invalid duration '15 minutes' for 'maxAuthAge' (use e.g. 30s, 15m, 12h)"
        },
        {
            "segments/hr.yaml",
            """
            segment: hr
            listen: http://0.0.0.0:8081
            services:
              payroll:
                destinations: [http://127.0.0.1:7102]
            routes:
              - id: payroll-read
                match: { path: "/payroll/{**rest}" }
                service: payroll
                allow:
                  - name: hr-staff
                    from: [hr]
                    users: { groups: [hr-staff] }
            """,
            "segments/hr.yaml:2:9: error: listen 'http://0.0.0.0:8081' overlaps the listener 'http://127.0.0.1:8081' of segment 'finance' (finance.yaml)"
        },
        {
            "segments/hr.yaml",
            """
            segment: hr
            listen: http://127.0.0.1:8082
            services:
              payroll:
                destinations: [http://127.0.0.1:7102]
            routes:
              - id: payroll-read
                match: { path: "/payroll/{**rest}" }
                service: payroll
                allow:
                  - name: hr-staff
                    from: [hr]
            """,
            "segments/hr.yaml:11:9: error: rule 'hr-staff' names neither users nor workloads"
        },
        {
            "segments/hr.yaml",
            """
            segment: hr
            listen: http://127.0.0.1:8082
            services:
              payroll:
                destinations: [http://127.0.0.1:7102]
            routes:
              - id: payroll-read
                match: { path: "/payroll/{**rest}" }
                service: payroll
                allow:
                  - name: hr-staff
                    from: [hr]
                    users: { groups: [hr-staff] }
                    workloads: [hr-portal]
            """,
            "segments/hr.yaml:14:9: error: rule 'hr-staff' names both users and workloads; write one rule for each"
        },
        {
            "segments/hr.yaml",
            """
            segment: hr
            listen: http://127.0.0.1:8082
            services:
              payroll:
                destinations: [http://127.0.0.1:7102]
            routes:
              - id: payroll-read
                match: { path: "/payroll/{**rest}" }
                service: payroll
                allow:
                  - name: hr-staff
                    users: { groups: [hr-staff] }
            """,
            "segments/hr.yaml:11:9: error: allow rule 'hr-staff' must say where callers come from ('from'); use [\"*\"] for any segment"
        },
        {
            "segments/hr.yaml",
            """
            segment: hr
            listen: http://127.0.0.1:8082
            services:
              payroll:
                destinations: [http://127.0.0.1:7102]
            routes:
              - id: payroll-read
                match: { path: "/payroll/{**rest}" }
                service: payroll
                allow:
                  - name: ledger-sync
                    from: [finance]
                    workloads: [spiffe://corp.example/finance/ledger-sync]
                    mfa: required
            """,
            "segments/hr.yaml:14:9: error: rule 'ledger-sync': 'mfa' applies to users only; a workload rule cannot set it"
        },
        {
            "segments/hr.yaml",
            """
            segment: hr
            listen: http://127.0.0.1:8082
            services:
              payroll:
                destinations: [http://127.0.0.1:7102]
            routes:
              - id: payroll-read
                match: { path: "/payroll/{**rest}", methods: [GET }
                service: payroll
            """,
            "segments/hr.yaml:8:55: error: invalid YAML: while parsing a flow sequence, did not find expected ',' or ']'"
        },
        {
            "segments/hr.yaml",
            """
            segment: hr
            listen: http://127.0.0.1:8082
            services:
              payroll:
                destinations: [http://127.0.0.1:7102]
            routes:
              - id: payroll-read
                match: { path: "/payroll/{**rest}" }
                service: payroll
                allow:
                  - name: ledger-sync
                    from: [finance]
                    workloads: [spiffe://corp.example/finance/ledger-sync]
                    until: 2026-12-31
            """,
            "segments/hr.yaml:14:16: error: rule 'ledger-sync': invalid until '2026-12-31' (use an ISO 8601 instant with an offset, e.g. 2026-12-31T00:00:00Z)"
        },
        {
            "segments/hr.yaml",
            """
            segment: hr
            listen: http://127.0.0.1:8082
            services:
              payroll:
                destinations: [http://127.0.0.1:7102]
            routes:
              - id: payroll-read
                match: { path: "/payroll/{**rest}" }
                service: payroll
                allow:
                  - name: ledger-sync
                    from: [finance]
                    workloads: [spiffe://corp.example/finance/ledger-sync]
                    until: 2026-03-01T09:30:00+01:00
            """,
            "segments/hr.yaml:14:16: warning: rule 'ledger-sync': grant expired at 2026-03-01T08:30:00Z; it no longer applies"
        },
        {
            "segments/hr.yaml",
            """
            segment: finance
            listen: http://127.0.0.1:8082
            services:
              payroll:
                destinations: [http://127.0.0.1:7102]
            routes:
              - id: payroll-read
                match: { path: "/payroll/{**rest}" }
                service: payroll
                allow:
                  - name: hr-staff
                    from: ["*"]
                    users: { groups: [hr-staff] }
            """,
            "segments/hr.yaml:1:10: error: segment 'finance' is already defined in finance.yaml"
        },
        {
            "segments/hr.yaml",
            """
            segment: hr
            listen: http://127.0.0.1:8082
            services:
              payroll:
                destinations: [http://127.0.0.1:7102]
            routes:
              - id: payroll-read
                match: { path: "/payroll/{**rest}" }
                service: payroll
                deny:
                  - name: contractors
                    users: { groups: [contractors] }
            """,
            "segments/hr.yaml:7:5: error: route 'payroll-read' has no allow rule, so no request could ever pass it"
        },
        {
            "segments/hr.yaml",
            """
            segment: hr
            listen: http://127.0.0.1:8082
            services:
              payroll:
                destinations: [http://127.0.0.1:7102]
            routes:
              - id: payroll-read
                match: { path: "/payroll/{**rest}/audit" }
                service: payroll
                allow:
                  - name: hr-staff
                    from: [hr]
                    users: { groups: [hr-staff] }
            """,
            "segments/hr.yaml:8:20: error: route 'payroll-read': path '/payroll/{**rest}/audit' has a catch-all '{**rest}' that is not the last segment"
        },
        {
            "segments/hr.yaml",
            """
            segment: hr
            listen: http://127.0.0.1:8082
            defaults:
              device: trusted
            services:
              payroll:
                destinations: [http://127.0.0.1:7102]
            routes:
              - id: payroll-read
                match: { path: "/payroll/{**rest}" }
                service: payroll
                allow:
                  - name: hr-staff
                    from: [hr]
                    users: { groups: [hr-staff] }
            """,
            "segments/hr.yaml:4:11: error: 'defaults.device' must be compliant, managed or any, not 'trusted'"
        },
        {
            "segments/hr.yaml",
            """
            segment: hr
            listen: http://127.0.0.1:8082
            members:
              workloads: [hr-portal, hr-portal]
            services:
              payroll:
                destinations: [http://127.0.0.1:7102]
            routes:
              - id: payroll-read
                match: { path: "/payroll/{**rest}" }
                service: payroll
                allow:
                  - name: hr-staff
                    from: [hr]
                    users: { groups: [hr-staff] }
            """,
            "segments/hr.yaml:4:26: error: workload 'hr-portal' is listed twice in 'members.workloads'"
        },
        {
            "segments/hr.yaml",
            """
            segment: hr
            listen: http://127.0.0.1
            services:
              payroll:
                destinations: [http://127.0.0.1:7102]
            routes:
              - id: payroll-read
                match: { path: "/payroll/{**rest}" }
                service: payroll
                allow:
                  - name: hr-staff
                    from: [hr]
                    users: { groups: [hr-staff] }
            """,
            "segments/hr.yaml:2:9: error: listen 'http://127.0.0.1' must give an explicit port"
        },
        {
            "segments/hr.yaml",
            """
            segment: hr
            listen: http://127.0.0.1:8082
            services:
              payroll:
                destinations: [http://127.0.0.1:7102]
            routes:
              - id: payroll-read
                match: { path: "/payroll/{**rest}", methods: GET }
                service: payroll
                allow:
                  - name: hr-staff
                    from: [hr]
                    users: { groups: [hr-staff] }
            """,
            "segments/hr.yaml:8:50: error: route 'payroll-read': 'match.methods' must be a list, not a single value"
        },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Rejects_BrokenFile_WithExactDiagnostic(string file, string content, string expected)
    {
        using var folder = PolicySamples.Minimal().Write(file, content);

        var result = folder.Load();

        Assert.Equal(expected, folder.FormatAll(result));
        var isError = expected.Contains(": error: ", StringComparison.Ordinal);
        Assert.Equal(isError, result.Policy is null);
        Assert.Equal(!isError, result.Succeeded);
    }
}
