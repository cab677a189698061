using System.Net;
using ZtGateway.Policy.Analysis;
using ZtGateway.Policy.Engine;
using ZtGateway.Policy.Tests.Loading;

namespace ZtGateway.Policy.Tests.Analysis;

public sealed class PolicyTestSuiteTests
{
    private const string Segment = """
        segment: hr
        listen: http://127.0.0.1:0
        members:
          workloads: [spiffe://t/hr/engine]
          networks: [10.20.0.0/16]
        services:
          payroll:
            destinations: [http://127.0.0.1:7001]
        routes:
          - id: payroll
            match: { path: "/payroll/{**rest}" }
            service: payroll
            allow:
              - name: hr-staff
                from: [hr]
                users: { groups: [hr-staff] }
                maxAuthAge: 1h
              - name: engine
                from: [hr]
                workloads: [spiffe://t/hr/engine]
                until: 2026-07-01T00:00:00Z
        """;

    [Fact]
    public void Reads_EveryField()
    {
        using var folder = Folder("""
            config: gateway.yaml
            at: 2026-06-01T12:00:00Z
            cases:
              - name: everything
                at: 2026-06-02T00:00:00+02:00
                request:
                  segment: hr
                  method: post
                  path: /payroll/x
                  ip: 10.20.0.7
                  user: { sub: alice, groups: [hr-staff], roles: [Clerk], amr: [pwd, mfa], acr: phr, authAge: 10m }
                  device: { id: laptop-1, segment: hr, compliant: true, managed: false, risk: medium }
                  token: valid
                expect: { decision: allow, reason: allowed, rule: hr-staff }
            """);

        var result = PolicyTestSuite.Load(folder.PathOf("tests.yaml"));

        Assert.True(result.Succeeded, string.Join('\n', result.Diagnostics));
        var suite = result.Suite!;
        Assert.Equal(folder.GatewayFile, suite.ConfigPath);
        Assert.Equal(new DateTimeOffset(2026, 6, 1, 12, 0, 0, TimeSpan.Zero), suite.At);
        var testCase = Assert.Single(suite.Cases);
        Assert.Equal(new DateTimeOffset(2026, 6, 1, 22, 0, 0, TimeSpan.Zero), testCase.At);
        var request = testCase.Request;
        Assert.Equal(("hr", "POST", "/payroll/x", IPAddress.Parse("10.20.0.7")), (request.Segment, request.Method, request.Path, request.ClientAddress));
        Assert.Equal(("alice", "phr", TimeSpan.FromMinutes(10)), (request.User!.Subject, request.User.Acr, request.User.AuthAge));
        Assert.Equal(["hr-staff"], request.User.Groups);
        Assert.Equal(["Clerk"], request.User.Roles);
        Assert.Equal(("laptop-1", "hr", true, false, Configuration.RiskLevel.Medium), (request.Device!.Id, request.Device.Segment, request.Device.Compliant, request.Device.Managed, request.Device.Risk));
        Assert.Equal(TokenStatus.Valid, request.Token);
        Assert.Equal((true, ReasonCode.Allowed, true, "hr-staff"), (testCase.Expect.Allowed, testCase.Expect.Reason, testCase.Expect.ChecksRule, testCase.Expect.Rule));
    }

    [Fact]
    public void Reports_EveryProblem_WithItsPosition()
    {
        using var folder = Folder("""
            cases:
              - name: a
                request: { segment: hr, path: payroll, ip: not-an-ip, colour: red }
                expect: { decision: maybe, reason: nope }
              - name: a
                request: { segment: hr, path: /x, user: { sub: u, authAge: soon }, workload: w }
                expect: { decision: allow, reason: segment-not-allowed }
            """);

        var result = PolicyTestSuite.Load(folder.PathOf("tests.yaml"));

        Assert.False(result.Succeeded);
        Assert.Equal(
            [
                "tests.yaml:3:35: error: case 'a': 'request.path' must start with '/', not 'payroll'",
                "tests.yaml:3:48: error: case 'a': 'request.ip' must be an IP address, not 'not-an-ip'",
                "tests.yaml:3:59: error: case 'a': unknown key 'colour' in 'request'",
                "tests.yaml:4:25: error: case 'a': 'expect.decision' must be allow or deny, not 'maybe'",
                "tests.yaml:4:40: error: case 'a': 'expect.reason' must be a reason code such as segment-not-allowed, not 'nope'",
                "tests.yaml:5:11: error: duplicate case name 'a' (first at line 2)",
                "tests.yaml:6:64: error: case 'a': invalid duration 'soon' for 'request.user.authAge' (use e.g. 30s, 15m, 12h)",
                "tests.yaml:6:72: error: case 'a': a request has either 'user' or 'workload', not both",
                "tests.yaml:7:13: error: case 'a': 'expect' says decision allow with reason segment-not-allowed; they contradict each other",
            ],
            result.Diagnostics.Select(d => d.Format(folder.Root)));
    }

    [Fact]
    public void Runner_DecidesEachCaseAtItsInstant_AndReportsMismatches()
    {
        using var folder = Folder("""
            config: gateway.yaml
            at: 2026-06-01T12:00:00Z
            cases:
              - name: engine inside its grant
                request: { segment: hr, path: /payroll/run, ip: 10.20.0.9, workload: spiffe://t/hr/engine }
                expect: { decision: allow, rule: engine }
              - name: engine after its grant
                at: 2026-07-02T00:00:00Z
                request: { segment: hr, path: /payroll/run, ip: 10.20.0.9, workload: spiffe://t/hr/engine }
                expect: { decision: deny, reason: grant-expired, rule: engine }
              - name: wrong on purpose
                request:
                  segment: hr
                  path: /payroll/run
                  user: { sub: alice, groups: [hr-staff], amr: [pwd, mfa], authAge: 2h }
                  device: { segment: hr, compliant: true }
                expect: { decision: allow, reason: allowed, rule: }
            """);
        var suite = PolicyTestSuite.Load(folder.PathOf("tests.yaml")).Suite!;
        var policy = ZtGateway.Policy.Loading.PolicyLoader.Load(suite.ConfigPath!, TimeProvider.System,
            new ZtGateway.Policy.Loading.PolicyLoadOptions { KeyFiles = ZtGateway.Policy.Loading.KeyFileCheck.Skip }).Policy!;

        var results = PolicyTestRunner.Run(policy, suite, TimeProvider.System);

        Assert.Equal([true, true, false], results.Select(r => r.Passed));
        Assert.Equal(new DateTimeOffset(2026, 7, 2, 0, 0, 0, TimeSpan.Zero), results[1].At);
        Assert.Equal(
            ["decision: expected allow, got deny", "reason: expected allowed, got auth-too-old", "rule: expected none, got hr-staff"],
            results[2].Mismatches);
        Assert.NotEmpty(results[2].Explanation.Rules);
    }

    private static PolicyFolder Folder(string tests) =>
        new PolicyFolder()
            .Write("gateway.yaml", PolicySamples.MinimalGateway)
            .Write("segments/hr.yaml", Segment)
            .Write("tests.yaml", tests);
}
