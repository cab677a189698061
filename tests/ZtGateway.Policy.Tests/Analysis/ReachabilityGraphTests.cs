using System.Text.Json;
using ZtGateway.Policy.Analysis;
using ZtGateway.Policy.Analysis.Rendering;
using ZtGateway.Policy.Engine;

namespace ZtGateway.Policy.Tests.Analysis;

public sealed class ReachabilityGraphTests
{
    [Fact]
    public void ListsEveryAllowRule_WithItsEffectiveRequirements()
    {
        var graph = ReachabilityGraph.Build(AnalysisPolicy.Engine(AnalysisPolicy.Chain()));

        Assert.Equal(["alpha", "beta", "gamma"], graph.Segments.Select(s => s.Name));
        Assert.Equal(
            ["alpha/web/alpha-staff", "beta/api/web-agent", "beta/admin/beta-admins", "beta/admin/web-agent-wrong-source",
             "gamma/db/api-worker", "gamma/vault/api-worker-old-grant", "gamma/vault/web-agent-barred"],
            graph.Grants.Select(g => $"{g.DestinationSegment}/{g.Route.Id}/{g.Rule}"));

        var staff = graph.Grants[0];
        Assert.Equal(PrincipalKind.User, staff.PrincipalKind);
        Assert.Equal(["alpha-staff"], staff.Users!.Groups);
        Assert.Equal(Configuration.MfaRequirement.Required, staff.Requirements.Mfa);
        Assert.Equal(TimeSpan.FromHours(12), staff.Requirements.MaxAuthAge);
        Assert.True(staff.Requirements.Device!.Compliant);

        var agent = graph.Grants[1];
        Assert.Equal(PrincipalKind.Workload, agent.PrincipalKind);
        Assert.Equal(["GET"], agent.Methods);
        Assert.Null(agent.Requirements.Mfa);
        Assert.Equal("spiffe://t/beta/api-worker", agent.Route.ServiceIdentity);
    }

    [Fact]
    public void MarksGrants_TheEngineRefusesEveryRequestOf()
    {
        var graph = ReachabilityGraph.Build(AnalysisPolicy.Engine(AnalysisPolicy.Chain()));
        ReasonCode? Blocked(string rule) => graph.Grants.Single(g => g.Rule == rule).Blocked;

        Assert.Null(Blocked("alpha-staff"));
        Assert.Null(Blocked("web-agent"));
        Assert.Null(Blocked("api-worker"));
        Assert.Equal(ReasonCode.GrantExpired, Blocked("api-worker-old-grant"));
        Assert.Equal(ReasonCode.DeniedByRule, Blocked("web-agent-barred"));
        Assert.Equal(ReasonCode.SegmentNotAllowed, Blocked("web-agent-wrong-source"));
    }

    [Fact]
    public void Mermaid_HasOneEdgePerSource_DashedWhenDead()
    {
        var output = new StringWriter();

        ReportRenderer.Render(ReachabilityGraph.Build(AnalysisPolicy.Engine(AnalysisPolicy.Chain())), ReportFormat.Mermaid, output);

        var lines = output.ToString().Split('\n');
        Assert.Equal("flowchart LR", lines[0]);
        Assert.Equal(7, lines.Count(l => l.Contains("-->|", StringComparison.Ordinal) || l.Contains("-.->|", StringComparison.Ordinal)));
        Assert.Equal(3, lines.Count(l => l.Contains("-.->|", StringComparison.Ordinal)));
        Assert.Contains(lines, l => l.Contains("workloads [spiffe://t/alpha/web-agent] · GET · rule web-agent", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains('"', StringComparison.Ordinal) && l.Count(c => c == '"') % 2 == 1);
    }

    [Fact]
    public void Dot_IsOneDigraph_WithAClusterPerSegment()
    {
        var output = new StringWriter();

        ReportRenderer.Render(ReachabilityGraph.Build(AnalysisPolicy.Engine(AnalysisPolicy.Chain())), ReportFormat.Dot, output);

        var text = output.ToString();
        Assert.StartsWith("digraph ztgw {", text, StringComparison.Ordinal);
        Assert.EndsWith("}" + Environment.NewLine, text, StringComparison.Ordinal);
        Assert.Equal(3, text.Split("subgraph \"cluster_").Length - 1);
        Assert.Contains("\"src:alpha\" -> \"route:beta/api\"", text, StringComparison.Ordinal);
        Assert.Contains("style=dashed", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Json_CarriesGrantsAndTheirState()
    {
        var output = new StringWriter();

        ReportRenderer.Render(ReachabilityGraph.Build(AnalysisPolicy.Engine(AnalysisPolicy.Chain())), ReportFormat.Json, output);

        using var json = JsonDocument.Parse(output.ToString());
        var grants = json.RootElement.GetProperty("grants");
        Assert.Equal(7, grants.GetArrayLength());
        var expired = grants.EnumerateArray().Single(g => g.GetProperty("rule").GetString() == "api-worker-old-grant");
        Assert.False(expired.GetProperty("live").GetBoolean());
        Assert.Equal("grant-expired", expired.GetProperty("blocked").GetString());
        Assert.Equal("2026-01-01T00:00:00Z", expired.GetProperty("requirements").GetProperty("until").GetString());
        Assert.Equal(3, json.RootElement.GetProperty("segments").GetArrayLength());
    }

    [Fact]
    public void BlastRadiusText_ListsEachPathHopByHop()
    {
        var report = BlastRadius.Compute(AnalysisPolicy.Engine(AnalysisPolicy.Chain()),
            new Compromise { Kind = CompromiseKind.Workload, Name = "spiffe://t/alpha/web-agent" });
        var output = new StringWriter();

        ReportRenderer.Render(report, ReportFormat.Text, output);

        Assert.Equal(
            """
            Blast radius of workload:spiffe://t/alpha/web-agent as of 2026-06-01T12:00:00Z: 2 routes in 2 segments, workload identities taken over on the way: [spiffe://t/beta/api-worker, spiffe://t/gamma/db-engine]

            beta/api: GET /api/{**rest} (service api), directly
              1. workload spiffe://t/alpha/web-agent (placed in alpha) -> beta/api GET by rule web-agent

            gamma/db: * /db/{**rest} (service db), 2 hops
              1. workload spiffe://t/alpha/web-agent (placed in alpha) -> beta/api GET by rule web-agent
                 service api runs as spiffe://t/beta/api-worker
              2. workload spiffe://t/beta/api-worker (placed in beta) -> gamma/db * by rule api-worker

            """.ReplaceLineEndings(),
            output.ToString());
    }

    [Fact]
    public void BlastRadiusMermaid_ShowsTheTakeOver()
    {
        var report = BlastRadius.Compute(AnalysisPolicy.Engine(AnalysisPolicy.Chain()),
            new Compromise { Kind = CompromiseKind.Workload, Name = "spiffe://t/alpha/web-agent" });
        var output = new StringWriter();

        ReportRenderer.Render(report, ReportFormat.Mermaid, output);

        var text = output.ToString();
        Assert.Contains("-.->|\"runs as\"|", text, StringComparison.Ordinal);
        Assert.Contains("workload spiffe://t/beta/api-worker · rule api-worker", text, StringComparison.Ordinal);
    }
}
