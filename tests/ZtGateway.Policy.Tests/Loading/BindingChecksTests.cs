namespace ZtGateway.Policy.Tests.Loading;

/// <summary>Warnings for bound credentials that no listener could see: the rule or setting stays, and fails closed.</summary>
public sealed class BindingChecksTests
{
    private const string Gateway = """
        identity:
          issuers:
            - name: corp
              type: jwks
              issuer: https://idp.example
              jwksFile: keys/idp.jwks.json
              audiences: [ztgw]
          workloadCertificates:
            trustDomains: [corp.example]

        """;

    private static string Hr(string listen, string tls) => $$"""
        segment: hr
        listen: {{listen}}
        {{tls}}
        services:
          payroll:
            destinations: [http://127.0.0.1:7102]
        routes:
          - id: payroll-admin
            match: { path: "/payroll/admin/{**rest}" }
            service: payroll
            allow:
              - name: admins
                from: [hr]
                users: { roles: [PayrollAdmin] }
                boundToken: true

        """;

    private const string MutualTls = """
        tls:
          certificate: certs/hr.pem
          key: certs/hr.key
          clientCertificates: optional
          clientCA: certs/clients-ca.pem
        """;

    private const string ServerTlsOnly = """
        tls:
          certificate: certs/hr.pem
          key: certs/hr.key
        """;

    [Fact]
    public void OnAPlainListener_ABoundTokenRule_AndWorkloadCertificates_AreWarnedAbout()
    {
        using var folder = PolicySamples.Minimal().Write("gateway.yaml", Gateway).Write("segments/hr.yaml", Hr("http://127.0.0.1:8082", string.Empty));

        var result = folder.Load();

        Assert.True(result.Succeeded, folder.FormatAll(result));
        Assert.Equal(
        [
            "gateway.yaml:9:5: warning: 'identity.workloadCertificates' is set, but no segment listener asks for client certificates " +
            "(tls.clientCertificates), so no certificate will name a workload",
            "segments/hr.yaml:12:9: warning: rule 'admins': boundToken is true, but the listener of segment 'hr' asks for no client " +
            "certificate (tls.clientCertificates), so no request can satisfy the rule",
        ], folder.Format(result));
    }

    [Fact]
    public void OnATlsListenerThatAsksForNoClientCertificate_TheRuleIsWarnedAbout()
    {
        using var folder = PolicySamples.Minimal().Write("gateway.yaml", PolicySamples.MinimalGateway)
            .Write("segments/hr.yaml", Hr("https://127.0.0.1:8443", ServerTlsOnly));

        var result = folder.Load();

        Assert.True(result.Succeeded, folder.FormatAll(result));
        var warning = Assert.Single(folder.Format(result));
        Assert.Contains("rule 'admins': boundToken is true, but the listener of segment 'hr' asks for no client certificate", warning, StringComparison.Ordinal);
    }

    [Fact]
    public void OnAListenerThatAsksForClientCertificates_NothingIsWarned()
    {
        using var folder = PolicySamples.Minimal().Write("gateway.yaml", Gateway).Write("segments/hr.yaml", Hr("https://127.0.0.1:8443", MutualTls));

        var result = folder.Load();

        Assert.True(result.Succeeded, folder.FormatAll(result));
        Assert.Empty(folder.Format(result));
    }
}
