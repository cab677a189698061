namespace ZtGateway.Policy.Tests.Loading;

/// <summary>YAML used by the loader tests.</summary>
internal static class PolicySamples
{
    /// <summary>The gateway.yaml sample of docs/design.md section 2.1, adapted (keys dir, grants) to load on its own.</summary>
    public const string DesignGateway = """
        gateway:
          policyDir: segments              # folder of segment files, relative to this file
          trustedProxies: []               # CIDRs whose X-Forwarded-For is believed; empty = use the socket peer
          stateDir: state                  # revocations and quarantines, kept across restarts
          management:
            listen: http://127.0.0.1:9090  # /healthz /readyz /metrics /admin/* /ssf/events
        identity:
          issuers:
            - name: corp
              type: entra                  # Microsoft.Identity.Web: instance, tenantId, audience (clientId)
              instance: https://login.microsoftonline.com/
              tenantId: 11111111-2222-3333-4444-555555555555
              audiences: [api://ztgw]
            - name: dev
              type: oidc                   # discovery at {authority}/.well-known/openid-configuration
              authority: http://127.0.0.1:5556
              audiences: [ztgw]
              requireHttpsMetadata: false
            - name: offline
              type: jwks                   # static keys for air-gapped sites and tests
              issuer: https://idp.example
              jwksFile: keys/idp.jwks.json
              audiences: [ztgw]
          mfaMethods: [mfa, otp, hwk, swk, sc, fpt, face]   # RFC 8176 amr values that count as multi-factor
          clockSkew: 60s
        device:
          header: X-Device-Posture
          audience: ztgw
          maxAge: 15m
          issuers:
            - issuer: https://posture.example
              jwksFile: keys/posture.jwks.json   # or jwksUri
        assertion:                                # identity handed to upstreams
          header: X-ZT-Assertion
          issuer: https://ztgw.example
          signingKeyFile: keys/gateway-signing.pem   # EC P-256; generated at first start if absent
          lifetime: 60s
        telemetry:
          serviceName: ztgw
          otlpEndpoint: http://127.0.0.1:4317   # empty: no export
          otlpProtocol: grpc                     # grpc | http/protobuf
        signals:                                 # OpenID CAEP events pushed by the IdP or the EDR
          transmitters:
            - issuer: https://edr.example
              jwksFile: keys/signals.jwks.json   # or jwksUri
              audience: ztgw
        admin:                                   # who may use /admin/* on the management listener
          issuer: corp
          role: ZtGatewayAdmin
        detection:
          window: 10m
          maxDenials: 20                         # per principal or device within the window
          maxSegments: 3                         # distinct destination segments within the window
          learningPeriod: 24h                    # before first-seen segment pairs raise findings
          response: alert                        # alert | contain
          containFor: 30m
        audit:
          sinks: [stdout]                        # stdout | file:PATH
          allows: true                           # false: log denies only

        """;

    /// <summary>The segment file sample of docs/design.md section 2.2, adapted (keys dir, grants) to load on its own.</summary>
    public const string DesignHr = """
        segment: hr
        description: Human resources systems
        listen: http://0.0.0.0:8082          # this segment's own listener; its routes are reachable nowhere else
        members:                             # how a caller is placed in this segment (section 4)
          workloads: [spiffe://corp.example/hr/payroll-engine, hr-portal]
          networks: [10.20.0.0/16]
        defaults:                            # apply to every user rule of this file unless the rule overrides
          mfa: required                      # required | optional
          device: compliant                  # compliant | managed | any
          maxAuthAge: 12h
        services:
          payroll:
            destinations: [http://127.0.0.1:7102]
            healthCheck: /healthz
            passAuthorization: false         # forward the caller's bearer token upstream (default false)
            identity: spiffe://corp.example/hr/payroll-engine   # the workload identity this service calls
                                             # others with; lets `graph` follow a breach onward
        routes:
          - id: payroll-read
            match: { path: "/payroll/{**rest}", methods: [GET] }
            service: payroll
            allow:
              - name: hr-staff
                from: [hr]                   # source segments, or ["*"]
                users: { groups: [hr-staff] }        # any of groups / roles / subjects
              - name: ledger-sync
                from: [finance]
                workloads: [spiffe://corp.example/finance/ledger-sync]
                until: 2026-12-31T00:00:00Z   # just-in-time grant: ignored after this instant
          - id: payroll-admin
            match: { path: "/payroll/admin/{**rest}" }
            service: payroll
            allow:
              - name: payroll-admins
                from: [hr]
                users: { roles: [PayrollAdmin] }
                maxAuthAge: 15m               # step-up: re-authenticate within 15 minutes
                acr: [phr]                    # acceptable acr values (optional)
                device: { compliant: true, managed: true, maxRisk: low }
            deny:
              - name: no-contractors
                users: { groups: [contractors] }

        """;

    /// <summary>docs/design.md section 2.1, every key written.</summary>
    public const string FullGateway = """
        gateway:
          policyDir: segments
          trustedProxies: [10.0.0.0/8, 192.168.1.10]
          stateDir: state
          management:
            listen: http://127.0.0.1:9090
        identity:
          issuers:
            - name: corp
              type: entra
              instance: https://login.microsoftonline.com/
              tenantId: 11111111-2222-3333-4444-555555555555
              audiences: [api://ztgw]
            - name: dev
              type: oidc
              authority: http://127.0.0.1:5556
              audiences: [ztgw]
              requireHttpsMetadata: false
            - name: offline
              type: jwks
              issuer: https://idp.example
              jwksFile: keys/idp.jwks.json
              audiences: [ztgw]
          mfaMethods: [mfa, otp, hwk]
          clockSkew: 30s
        device:
          header: X-Device-Posture
          audience: ztgw-devices
          maxAge: 10m
          issuers:
            - issuer: https://posture.example
              jwksFile: keys/posture.jwks.json
            - issuer: https://mdm.example
              jwksUri: https://mdm.example/jwks.json
        assertion:
          header: X-ZT-Assertion
          issuer: https://ztgw.example
          signingKeyFile: keys/gateway-signing.pem
          lifetime: 90s
        telemetry:
          serviceName: ztgw-test
          otlpEndpoint: http://127.0.0.1:4317
          otlpProtocol: http/protobuf
        signals:
          transmitters:
            - issuer: https://edr.example
              jwksFile: keys/signals.jwks.json
              audience: ztgw
        admin:
          issuer: corp
          role: ZtGatewayAdmin
        detection:
          window: 10m
          maxDenials: 20
          maxSegments: 3
          maxRoutes: 12
          learningPeriod: 1h30m
          response: contain
          containFor: 30m
        audit:
          sinks: [stdout, "file:logs/audit.jsonl"]
          allows: false

        """;

    /// <summary>docs/design.md section 2.2, every key written.</summary>
    public const string FullHr = """
        segment: hr
        description: Human resources systems
        listen: http://0.0.0.0:8082
        members:
          workloads: [spiffe://corp.example/hr/payroll-engine, hr-portal]
          networks: [10.20.0.0/16]
        defaults:
          mfa: optional
          device: managed
          maxAuthAge: 8h
        services:
          payroll:
            destinations: [http://127.0.0.1:7102, https://payroll-2.internal:8443]
            healthCheck: /healthz
            passAuthorization: true
            identity: spiffe://corp.example/hr/payroll-engine
        routes:
          - id: payroll-read
            match: { path: "/payroll/{**rest}", methods: [get, HEAD] }
            service: payroll
            allow:
              - name: hr-staff
                from: [hr]
                users: { groups: [hr-staff] }
              - name: ledger-sync
                from: [finance]
                workloads: [spiffe://corp.example/finance/ledger-sync]
                methods: [GET]
                networks: [10.10.0.0/16]
                until: 2026-12-31T00:00:00Z
          - id: payroll-admin
            match: { path: "/payroll/admin/{**rest}" }
            service: payroll
            allow:
              - name: payroll-admins
                from: ["*"]
                users: { roles: [PayrollAdmin], subjects: [alice] }
                mfa: required
                maxAuthAge: 15m
                acr: [phr]
                device: { compliant: true, managed: true, maxRisk: low }
            deny:
              - name: no-contractors
                users: { groups: [contractors] }

        """;

    /// <summary>A second segment for the full sample.</summary>
    public const string FullFinance = """
        segment: finance
        listen: http://0.0.0.0:8081
        members:
          workloads: [spiffe://corp.example/finance/ledger-sync]
        services:
          ledger:
            destinations: [http://127.0.0.1:7101]
        routes:
          - id: ledger
            match: { path: "/ledger/{id}" }
            service: ledger
            allow:
              - name: finance-staff
                from: [finance, unknown]
                users: { groups: [finance] }

        """;

    /// <summary>The smallest valid gateway.yaml.</summary>
    public const string MinimalGateway = """
        identity:
          issuers:
            - name: corp
              type: jwks
              issuer: https://idp.example
              jwksFile: keys/idp.jwks.json
              audiences: [ztgw]

        """;

    /// <summary>A small valid hr segment.</summary>
    public const string MinimalHr = """
        segment: hr
        listen: http://127.0.0.1:8082
        services:
          payroll:
            destinations: [http://127.0.0.1:7102]
        routes:
          - id: payroll-read
            match: { path: "/payroll/{**rest}", methods: [GET] }
            service: payroll
            allow:
              - name: hr-staff
                from: [hr, finance]
                users: { groups: [hr-staff] }

        """;

    /// <summary>A small valid finance segment.</summary>
    public const string MinimalFinance = """
        segment: finance
        listen: http://127.0.0.1:8081
        services:
          ledger:
            destinations: [http://127.0.0.1:7101]
        routes:
          - id: ledger
            match: { path: /ledger }
            service: ledger
            allow:
              - name: anyone
                from: ["*"]
                users: { groups: [staff] }

        """;

    /// <summary>An <c>identity:</c> section with one jwks issuer, to append to a gateway.yaml under test.</summary>
    public const string JwksIssuer = """
        identity:
          issuers:
            - name: corp
              type: jwks
              issuer: https://idp.example
              jwksFile: keys/idp.jwks.json
              audiences: [ztgw]

        """;

    public static PolicyFolder Full() =>
        new PolicyFolder()
            .Write("gateway.yaml", FullGateway)
            .Write("segments/hr.yaml", FullHr)
            .Write("segments/finance.yaml", FullFinance);

    public static PolicyFolder Minimal()
    {
        var folder = new PolicyFolder()
            .Write("gateway.yaml", MinimalGateway)
            .Write("segments/hr.yaml", MinimalHr)
            .Write("segments/finance.yaml", MinimalFinance);
        Directory.CreateDirectory(folder.PathOf("empty"));
        return folder;
    }
}
