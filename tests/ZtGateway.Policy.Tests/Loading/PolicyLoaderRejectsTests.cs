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

    /// <summary>
    /// More cases, written as edits of <see cref="PolicySamples.MinimalHr"/> and <see cref="Issuers"/>. Lines of MinimalHr:
    /// 1 segment, 2 listen, 3 services, 4 payroll, 5 destinations, 6 routes, 7 id, 8 match, 9 service, 10 allow,
    /// 11 name, 12 from, 13 users.
    /// </summary>
    public static TheoryData<string, string, string> MoreCases => new()
    {
        {
            "gateway.yaml",
            "identity:\n  issuers:\n    - name: corp\n      type: entra\n      audiences: [api://ztgw]\n",
            "gateway.yaml:3:7: error: missing required key 'tenantId' in issuer 'corp'"
        },
        {
            "gateway.yaml",
            Issuers + "\n      authority: https://login.example\n",
            "gateway.yaml:8:7: error: issuer 'corp': 'authority' does not apply to an issuer of type jwks"
        },
        {
            "gateway.yaml",
            Issuers.Replace("type: jwks", "type: saml", StringComparison.Ordinal),
            "gateway.yaml:4:13: error: issuer 'corp': 'type' must be entra, oidc or jwks, not 'saml'"
        },
        {
            "gateway.yaml",
            Issuers + "\n    - name: corp\n      type: oidc\n      authority: https://login.example\n      audiences: [ztgw]\n",
            "gateway.yaml:8:13: error: duplicate issuer name 'corp' (first at line 3)"
        },
        {
            "gateway.yaml",
            Issuers + "\ndevice:\n  issuers:\n    - issuer: https://posture.example\n      jwksFile: keys/p.json\n      jwksUri: https://posture.example/jwks\n",
            "gateway.yaml:12:7: error: device issuer 'https://posture.example' sets both 'jwksFile' and 'jwksUri'; keep one"
        },
        {
            "gateway.yaml",
            Issuers + "\ndevice:\n  issuers:\n    - issuer: https://posture.example\n",
            "gateway.yaml:10:7: error: device issuer 'https://posture.example' needs exactly one of 'jwksFile' or 'jwksUri'"
        },
        {
            "gateway.yaml",
            Issuers + "\nsignals:\n  transmitters:\n    - issuer: https://edr.example\n      jwksUri: https://edr.example/jwks\n",
            "gateway.yaml:10:7: error: missing required key 'audience' in signal transmitter 'https://edr.example'"
        },
        {
            "gateway.yaml",
            Issuers + "\ntelemetry:\n  otlpProtocol: http\n",
            "gateway.yaml:9:17: error: 'telemetry.otlpProtocol' must be grpc or http/protobuf, not 'http'"
        },
        {
            "gateway.yaml",
            Issuers + "\ntelemetry:\n  otlpEndpoint: localhost:4317\n",
            "gateway.yaml:9:17: error: 'telemetry.otlpEndpoint' must be empty or an absolute http or https URL, not 'localhost:4317'"
        },
        {
            "gateway.yaml",
            Issuers + "\naudit:\n  sinks: [stdout, syslog]\n",
            "gateway.yaml:9:19: error: audit sink 'syslog' must be stdout or file:PATH"
        },
        {
            "gateway.yaml",
            Issuers + "\ndetection:\n  response: block\n",
            "gateway.yaml:9:13: error: 'detection.response' must be alert or contain, not 'block'"
        },
        {
            "gateway.yaml",
            Issuers + "\ndetection:\n  window: 0s\n",
            "gateway.yaml:9:11: error: 'detection.window' must be longer than zero"
        },
        {
            "gateway.yaml",
            "gateway:\n  management:\n    listen: https://127.0.0.1\n" + Issuers,
            "gateway.yaml:3:13: error: gateway.management.listen 'https://127.0.0.1' must give an explicit port"
        },
        {
            "gateway.yaml",
            "gateway:\n  management:\n    listen: https://127.0.0.1:9443\n" + Issuers,
            "gateway.yaml:3:13: error: gateway.management.listen 'https://127.0.0.1:9443' is https, but the management listener serves plain http only; use an http URL"
        },
        {
            "gateway.yaml",
            Issuers + "\nlogging: {}\n",
            "gateway.yaml:8:1: error: unknown key 'logging' in gateway file"
        },
        {
            "gateway.yaml",
            "- identity\n",
            "gateway.yaml:1:1: error: the gateway file must be a mapping of sections, not a list"
        },
        {
            "gateway.yaml",
            Issuers + "\n---\nidentity: {}\n",
            "gateway.yaml:8:1: error: a file holds one YAML document; remove the second one"
        },
        {
            "gateway.yaml",
            "# nothing here yet\n",
            "gateway.yaml:1:1: error: file is empty"
        },
        {
            "segments/hr.yaml",
            PolicySamples.MinimalHr.Replace("segment: hr", "segment: HR", StringComparison.Ordinal).Replace("[hr, finance]", "[finance]", StringComparison.Ordinal),
            "segments/hr.yaml:1:10: error: invalid segment name 'HR' (use lower-case letters, digits and '-', starting with a letter)"
        },
        {
            "segments/hr.yaml",
            PolicySamples.MinimalHr.Replace("segment: hr", "segment: unknown", StringComparison.Ordinal).Replace("[hr, finance]", "[finance]", StringComparison.Ordinal),
            "segments/hr.yaml:1:10: error: segment name 'unknown' is reserved for callers from no known segment"
        },
        {
            "segments/hr.yaml",
            PolicySamples.MinimalHr.Replace("listen: http://127.0.0.1:8082", "listen:", StringComparison.Ordinal),
            "segments/hr.yaml:2:1: error: missing value for 'listen' in segment file"
        },
        {
            "segments/hr.yaml",
            PolicySamples.MinimalHr.Replace("listen: http://127.0.0.1:8082\n", string.Empty, StringComparison.Ordinal),
            "segments/hr.yaml:1:1: error: missing required key 'listen' in segment file"
        },
        {
            "segments/hr.yaml",
            PolicySamples.MinimalHr.Replace("[http://127.0.0.1:7102]", "[127.0.0.1:7102]", StringComparison.Ordinal),
            "segments/hr.yaml:5:20: error: service 'payroll': destination '127.0.0.1:7102' must be an absolute http or https URL"
        },
        {
            "segments/hr.yaml",
            PolicySamples.MinimalHr.Replace("  payroll:", "  Payroll:", StringComparison.Ordinal).Replace("service: payroll", "service: Payroll", StringComparison.Ordinal),
            "segments/hr.yaml:4:3: error: invalid service name 'Payroll' (use lower-case letters, digits and '-', starting with a letter)"
        },
        {
            "segments/hr.yaml",
            PolicySamples.MinimalHr.Replace("[http://127.0.0.1:7102]", "[http://127.0.0.1:7102]\n    passAuthorization: yes", StringComparison.Ordinal),
            "segments/hr.yaml:6:24: error: service 'payroll': 'passAuthorization' must be true or false, not 'yes'"
        },
        {
            "segments/hr.yaml",
            PolicySamples.MinimalHr.Replace("[http://127.0.0.1:7102]", "[http://127.0.0.1:7102]\n    healthCheck: healthz", StringComparison.Ordinal),
            "segments/hr.yaml:6:18: error: service 'payroll': 'healthCheck' must be a path starting with '/', not 'healthz'"
        },
        {
            "segments/hr.yaml",
            PolicySamples.MinimalHr.Replace("users: { groups: [hr-staff] }", "users: { groups: [] }", StringComparison.Ordinal),
            "segments/hr.yaml:13:16: error: rule 'hr-staff': 'users' names no groups, roles or subjects"
        },
        {
            "segments/hr.yaml",
            PolicySamples.MinimalHr.Replace("methods: [GET]", "methods: [GET, get]", StringComparison.Ordinal),
            "segments/hr.yaml:8:56: error: route 'payroll-read': 'match.methods' lists method 'GET' twice"
        },
        {
            "segments/hr.yaml",
            PolicySamples.MinimalHr.Replace("/payroll/{**rest}", "/payroll//{**rest}", StringComparison.Ordinal),
            "segments/hr.yaml:8:20: error: route 'payroll-read': path '/payroll//{**rest}' has an empty segment ('//')"
        },
        {
            "segments/hr.yaml",
            PolicySamples.MinimalHr.Replace("/payroll/{**rest}", "/payroll/{id", StringComparison.Ordinal),
            "segments/hr.yaml:8:20: error: route 'payroll-read': path '/payroll/{id' has an unbalanced brace in segment '{id'"
        },
        {
            "segments/hr.yaml",
            PolicySamples.MinimalHr.Replace("users: { groups: [hr-staff] }", "users: { groups: [hr-staff] }\n        device: { compliant: true, patched: true }", StringComparison.Ordinal),
            "segments/hr.yaml:14:36: error: rule 'hr-staff': unknown key 'patched' in 'device'"
        },
        {
            "segments/hr.yaml",
            PolicySamples.MinimalHr.Replace("from: [hr, finance]", "from: [hr, finance]\n        mfaa: required", StringComparison.Ordinal),
            "segments/hr.yaml:13:9: error: unknown key 'mfaa' in rule 'hr-staff'"
        },
        {
            "segments/hr.yaml",
            PolicySamples.MinimalHr.Replace("from: [hr, finance]", "from: []", StringComparison.Ordinal),
            "segments/hr.yaml:12:15: error: rule 'hr-staff': 'from' is empty, so the rule could never apply; use [\"*\"] for any segment"
        },
        {
            "segments/hr.yaml",
            PolicySamples.MinimalHr.Replace("service: payroll", "service: *svc", StringComparison.Ordinal),
            "segments/hr.yaml:9:14: error: invalid YAML: alias '*svc' names no anchor"
        },
        {
            "segments/hr.yaml",
            string.Empty,
            "segments/hr.yaml:1:1: error: file is empty"
        },
        {
            "segments/hr.yaml",
            "- segment: hr\n",
            "segments/hr.yaml:1:1: error: the segment file must be a mapping with 'segment', 'listen' and 'routes', not a list"
        },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    [MemberData(nameof(MoreCases))]
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
