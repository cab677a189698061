namespace ZtGateway.IntegrationTests.Interop;

/// <summary>Gateway and segment files an operator would write for a gateway in front of a real identity provider.</summary>
internal static class InteropConfig
{
    public static string OidcGateway(string authority) => Gateway($$"""
            - name: dev
              type: oidc
              authority: {{authority}}
              audiences: [ztgw]
              requireHttpsMetadata: false
        """);

    public static string EntraGateway(string instance, string tenantId, string audience) => Gateway($$"""
            - name: corp
              type: entra
              instance: {{instance}}
              tenantId: {{tenantId}}
              audiences: [{{audience}}]
              requireHttpsMetadata: false
        """);

    /// <summary>
    /// One finance segment: staff read the ledger with MFA, controllers close it after a recent phishing-resistant
    /// login, and the workload <paramref name="workload"/> syncs it.
    /// </summary>
    public static Dictionary<string, string> Finance(string ledgerUrl, string workload) => new()
    {
        ["finance"] = $$"""
            segment: finance
            listen: http://127.0.0.1:0
            members:
              workloads: [{{workload}}]
              networks: [127.0.0.0/8]
            defaults:
              mfa: required
              device: any
              maxAuthAge: 12h
            services:
              ledger:
                destinations: [{{ledgerUrl}}]
            routes:
              - id: ledger
                match: { path: "/ledger/{**rest}", methods: [GET] }
                service: ledger
                allow:
                  - name: finance-staff
                    from: [finance]
                    users: { groups: [finance-staff] }
                  - name: ledger-sync
                    from: [finance]
                    workloads: [{{workload}}]
              - id: ledger-close
                match: { path: "/ledger/close/{**rest}" }
                service: ledger
                allow:
                  - name: controllers
                    from: [finance]
                    users: { roles: [Controller] }
                    maxAuthAge: 15m
                    acr: [phr]
            """,
    };

    private static string Gateway(string issuers) => $$"""
        gateway:
          policyDir: segments
          stateDir: state
          management:
            listen: http://127.0.0.1:0
        identity:
          issuers:
        {{issuers}}
        device:
          header: X-Device-Posture
          audience: ztgw
          maxAge: 15m
          issuers:
            - issuer: https://posture.test
              jwksFile: keys/posture.jwks.json
        assertion:
          issuer: https://ztgw.test
          signingKeyFile: keys/gateway-signing.pem
        audit:
          sinks: ["file:audit/decisions.jsonl"]
        """;
}
