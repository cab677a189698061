using ZtGateway.Policy.Configuration;

namespace ZtGateway.Policy.Tests.Loading;

/// <summary><c>identity.workloadCertificates</c>: which X.509-SVIDs name workloads, and every error with its line.</summary>
public sealed class WorkloadCertificatesLoaderTests
{
    private const string Issuer = """
        identity:
          issuers:
            - name: corp
              type: jwks
              issuer: https://idp.example
              jwksFile: keys/idp.jwks.json
              audiences: [ztgw]
          workloadCertificates:

        """;

    [Fact]
    public void Absent_NoCertificateNamesAWorkload()
    {
        using var folder = PolicySamples.Minimal().Write("gateway.yaml", PolicySamples.JwksIssuer);

        Assert.Null(Load(folder));
    }

    [Theory]
    [InlineData("trustDomains: [corp.example]", new[] { "corp.example" })]
    [InlineData("trustDomains: [corp.example, partner_1.example-2, x]", new[] { "corp.example", "partner_1.example-2", "x" })]
    public void Reads_TheTrustDomains(string keys, string[] expected)
    {
        using var folder = PolicySamples.Minimal().Write("gateway.yaml", Issuer + "    " + keys + "\n");

        var settings = Load(folder);

        Assert.NotNull(settings);
        Assert.Equal(expected, settings.TrustDomains);
    }

    public static TheoryData<string, string> Errors => new()
    {
        { "{}", "gateway.yaml:8:25: error: missing required key 'trustDomains' in 'identity.workloadCertificates'" },
        { "\n    trustDomains: []", "gateway.yaml:9:19: error: 'identity.workloadCertificates.trustDomains' must name at least one trust domain" },
        { "\n    trustDomains:", "gateway.yaml:9:5: error: missing value for 'trustDomains' in 'identity.workloadCertificates'" },
        { "\n    trustDomains: corp.example", "gateway.yaml:9:19: error: 'identity.workloadCertificates.trustDomains' must be a list, not a single value" },
        {
            "\n    trustDomains: [Corp.Example]",
            "gateway.yaml:9:20: error: 'identity.workloadCertificates.trustDomains' has an invalid trust domain 'Corp.Example' " +
            "(use lower-case letters, digits, '.', '-' and '_', as in corp.example; no scheme, port or path)"
        },
        {
            "\n    trustDomains: [\"spiffe://corp.example\"]",
            "gateway.yaml:9:20: error: 'identity.workloadCertificates.trustDomains' has an invalid trust domain 'spiffe://corp.example' " +
            "(use lower-case letters, digits, '.', '-' and '_', as in corp.example; no scheme, port or path)"
        },
        {
            "\n    trustDomains: [\"corp.example:8443\"]",
            "gateway.yaml:9:20: error: 'identity.workloadCertificates.trustDomains' has an invalid trust domain 'corp.example:8443' " +
            "(use lower-case letters, digits, '.', '-' and '_', as in corp.example; no scheme, port or path)"
        },
        {
            "\n    trustDomains: [corp.example, corp.example]",
            "gateway.yaml:9:34: error: trust domain 'corp.example' is listed twice in 'identity.workloadCertificates.trustDomains' (first at line 9)"
        },
        { "\n    trustDomains: [corp.example]\n    bundle: ca.pem", "gateway.yaml:10:5: error: unknown key 'bundle' in 'identity.workloadCertificates'" },
        { "[corp.example]", "gateway.yaml:8:25: error: 'identity.workloadCertificates' must be a mapping, not a list" },
    };

    [Theory]
    [MemberData(nameof(Errors))]
    public void Rejects_WithTheLineOfTheBadValue(string value, string expected)
    {
        using var folder = PolicySamples.Minimal().Write("gateway.yaml", Issuer.TrimEnd('\n') + " " + value + "\n");

        var result = folder.Load();

        Assert.Null(result.Policy);

        // The errors only: the warning that no listener asks for client certificates (BindingChecksTests) may come too.
        Assert.Equal([expected], folder.Format(result).Where(l => l.Contains(": error: ", StringComparison.Ordinal)));
    }

    [Fact]
    public void ATrustDomainOfMoreThan255Characters_IsRefused()
    {
        var longDomain = new string('a', 256);
        using var folder = PolicySamples.Minimal().Write("gateway.yaml", Issuer + "    trustDomains: [" + longDomain + "]\n");

        var text = folder.FormatAll(folder.Load());

        Assert.Contains($"has an invalid trust domain '{longDomain}'", text, StringComparison.Ordinal);
    }

    private static WorkloadCertificateSettings? Load(PolicyFolder folder)
    {
        var result = folder.Load();
        Assert.True(result.Succeeded, folder.FormatAll(result));
        return result.Policy!.Gateway.Identity.WorkloadCertificates;
    }
}
