namespace ZtGateway.Policy.Tests.Loading;

/// <summary><c>boundToken</c> on a rule: read on allow rules of users and workloads, refused on deny rules.</summary>
public sealed class BoundTokenLoaderTests
{
    private const string Header = """
        segment: hr
        listen: http://127.0.0.1:8082
        services:
          payroll:
            destinations: [http://127.0.0.1:7102]
        routes:
          - id: payroll-admin
            match: { path: "/payroll/admin/{**rest}" }
            service: payroll
            allow:

        """;

    [Theory]
    [InlineData("users: { roles: [PayrollAdmin] }, boundToken: true", true)]
    [InlineData("workloads: [spiffe://corp.example/hr/payroll-engine], boundToken: true", true)]
    [InlineData("users: { roles: [PayrollAdmin] }, boundToken: false", false)]
    [InlineData("users: { roles: [PayrollAdmin] }", false)]
    public void AllowRules_ReadBoundToken(string rule, bool expected)
    {
        using var folder = PolicySamples.Minimal().Write("segments/hr.yaml", Header + "      - { name: admins, from: [hr], " + rule + " }\n");

        var result = folder.Load();

        Assert.True(result.Succeeded, folder.FormatAll(result));
        Assert.Equal(expected, result.Policy!.Segments["hr"].Routes[0].Allow[0].BoundToken);
    }

    [Fact]
    public void ADenyRule_CannotAskForIt()
    {
        using var folder = PolicySamples.Minimal().Write("segments/hr.yaml", Header +
            "      - { name: admins, from: [hr], users: { roles: [PayrollAdmin] } }\n" +
            "    deny:\n" +
            "      - { name: contractors, users: { groups: [contractors] }, boundToken: true }\n");

        var result = folder.Load();

        Assert.Null(result.Policy);
        Assert.Equal(
            "segments/hr.yaml:13:64: error: rule 'contractors': 'boundToken' is a requirement of allow rules; a deny rule has none",
            folder.FormatAll(result));
    }

    [Fact]
    public void NotABoolean_IsRefused()
    {
        using var folder = PolicySamples.Minimal().Write("segments/hr.yaml", Header +
            "      - { name: admins, from: [hr], users: { roles: [PayrollAdmin] }, boundToken: yes }\n");

        var result = folder.Load();

        Assert.Null(result.Policy);
        Assert.Equal("segments/hr.yaml:11:83: error: rule 'admins': 'boundToken' must be true or false, not 'yes'", folder.FormatAll(result));
    }
}
