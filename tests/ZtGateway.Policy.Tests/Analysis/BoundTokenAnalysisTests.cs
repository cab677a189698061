using ZtGateway.Policy.Analysis;
using ZtGateway.Policy.Analysis.Rendering;
using ZtGateway.Policy.Engine;
using ZtGateway.Policy.Tests.Analysis.Rendering;
using ZtGateway.Policy.Tests.Loading;

namespace ZtGateway.Policy.Tests.Analysis;

/// <summary><c>boundToken</c> in the analyses: diff, graph, policy tests and request attributes all ask the one engine.</summary>
public sealed class BoundTokenAnalysisTests
{
    private const string Hr = """
        segment: hr
        listen: http://127.0.0.1:0
        members:
          workloads: [spiffe://t/hr/payroll-engine]
          networks: [10.20.0.0/16]
        services:
          payroll:
            destinations: [http://127.0.0.1:7002]
        routes:
          - id: payroll-admin
            match: { path: "/payroll/admin/{**rest}" }
            service: payroll
            allow:
              - name: payroll-admins
                from: [hr]
                users: { roles: [PayrollAdmin] }
                boundToken: true
              - name: engine
                from: [hr]
                workloads: [spiffe://t/hr/payroll-engine]
                boundToken: true
        """;

    private static string Unbound => Hr.Replace("\n        boundToken: true", string.Empty, StringComparison.Ordinal);

    [Fact]
    public void LosingBoundToken_IsAWeakening_ForUsersAndWorkloads()
    {
        var report = PolicyDiff.Compare(Engine(Hr), Engine(Unbound));

        Assert.Equal(2, report.Changes.Count);
        Assert.All(report.Changes, c =>
        {
            Assert.Equal(AccessChangeKind.Weakened, c.Kind);
            Assert.Equal(["bound token no longer required: a bearer token will do"], c.Details);
        });
        Assert.Equal(["role PayrollAdmin", "workload spiffe://t/hr/payroll-engine"], report.Changes.Select(c => c.Principal).Order(StringComparer.Ordinal));
        Assert.True(report.Opens);
    }

    [Fact]
    public void GainingBoundToken_IsATightening()
    {
        var report = PolicyDiff.Compare(Engine(Unbound), Engine(Hr));

        Assert.Equal(2, report.Changes.Count);
        Assert.All(report.Changes, c =>
        {
            Assert.Equal(AccessChangeKind.Tightened, c.Kind);
            Assert.Equal(["bound token now required"], c.Details);
        });
        Assert.False(report.Opens);
    }

    [Fact]
    public void ARuleThatNeedsABoundToken_IsStillAPathInTheGraph()
    {
        var graph = ReachabilityGraph.Build(Engine(Hr));

        var grants = graph.Grants.Where(g => g.Route.Id == "payroll-admin").ToList();
        Assert.Equal(2, grants.Count);
        Assert.All(grants, g =>
        {
            Assert.Null(g.Blocked);
            Assert.True(g.Requirements.BoundToken);
            Assert.Contains("bound token", Text.Requirements(g.Requirements), StringComparison.Ordinal);
        });
    }

    [Fact]
    public void GraphJson_SaysWhetherABoundTokenIsRequired()
    {
        var json = Golden.Capture(w => ReportRenderer.Render(ReachabilityGraph.Build(Engine(Hr)), ReportFormat.Json, w));

        Assert.Contains("\"boundToken\": true", json, StringComparison.Ordinal);
        Assert.DoesNotContain("\"boundToken\": false", json, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false, CredentialBinding.None)]
    [InlineData(true, CredentialBinding.BoundToken)]
    public void RequestAttributes_SayWhetherTheTokenIsBound(bool bound, CredentialBinding expected)
    {
        var attributes = new RequestAttributes { Segment = "hr", Path = "/payroll/admin/x", Workload = "spiffe://t/hr/payroll-engine", Bound = bound };

        Assert.Equal(expected, attributes.ToContext(AnalysisPolicy.Now).Binding);
    }

    [Fact]
    public void PolicyTests_ReadBound_AndExpectTokenUnbound()
    {
        using var folder = new PolicyFolder()
            .Write("gateway.yaml", PolicySamples.MinimalGateway)
            .Write("segments/hr.yaml", Hr)
            .Write("tests.yaml", """
                config: gateway.yaml
                at: 2026-06-01T12:00:00Z
                cases:
                  - name: engine with a bearer token
                    request: { segment: hr, path: /payroll/admin/run, ip: 10.20.0.9, workload: spiffe://t/hr/payroll-engine }
                    expect: { decision: deny, reason: token-unbound, rule: engine }
                  - name: engine with its certificate
                    request: { segment: hr, path: /payroll/admin/run, ip: 10.20.0.9, workload: spiffe://t/hr/payroll-engine, bound: true }
                    expect: { decision: allow, reason: allowed, rule: engine }
                  - name: bound is a boolean
                    request: { segment: hr, path: /payroll/admin/run, workload: spiffe://t/hr/payroll-engine, bound: yes }
                    expect: { decision: allow }
                """);

        var broken = PolicyTestSuite.Load(folder.PathOf("tests.yaml"));
        Assert.Contains(broken.Diagnostics, d => d.Message.Contains("'request.bound' must be true or false, not 'yes'", StringComparison.Ordinal));

        var text = File.ReadAllText(folder.PathOf("tests.yaml"));
        folder.Write("tests.yaml", text[..text.IndexOf("  - name: bound is a boolean", StringComparison.Ordinal)]);
        var suite = PolicyTestSuite.Load(folder.PathOf("tests.yaml")).Suite!;
        var policy = ZtGateway.Policy.Loading.PolicyLoader.Load(suite.ConfigPath!, TimeProvider.System,
            new ZtGateway.Policy.Loading.PolicyLoadOptions { KeyFiles = ZtGateway.Policy.Loading.KeyFileCheck.Skip }).Policy!;

        var results = PolicyTestRunner.Run(policy, suite, TimeProvider.System);

        Assert.All(results, r => Assert.True(r.Passed, string.Join("; ", r.Mismatches)));
        Assert.Equal(2, results.Count);
    }

    private static PolicyEngine Engine(string hr) => AnalysisPolicy.Engine(new Dictionary<string, string> { ["hr"] = hr });
}
