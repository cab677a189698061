using ZtGateway.Policy.Analysis;

namespace ZtGateway.Policy.Tests.Analysis;

public sealed class BlastRadiusTests
{
    private const string WebAgent = "spiffe://t/alpha/web-agent";
    private const string ApiWorker = "spiffe://t/beta/api-worker";

    [Fact]
    public void CompromisedWorkload_ReachesTheTransitivePath_AndNothingMore()
    {
        var engine = AnalysisPolicy.Engine(AnalysisPolicy.Chain());

        var report = BlastRadius.Compute(engine, new Compromise { Kind = CompromiseKind.Workload, Name = WebAgent });

        Assert.Equal(["beta/api", "gamma/db"], report.Paths.Select(p => $"{p.Target.DestinationSegment}/{p.Target.Route.Id}"));

        var direct = Assert.Single(report.Paths[0].Hops);
        Assert.Equal("workload " + WebAgent, direct.Actor);
        Assert.Equal("alpha", direct.SourceSegment);
        Assert.Equal(["GET"], direct.Methods);
        Assert.Equal(["web-agent"], direct.Rules);

        var chain = report.Paths[1].Hops;
        Assert.Equal(2, chain.Count);
        Assert.Equal(("alpha", "beta", "api"), (chain[0].SourceSegment, chain[0].DestinationSegment, chain[0].Route.Id));
        Assert.Equal(ApiWorker, chain[0].Route.ServiceIdentity);
        Assert.Equal("workload " + ApiWorker, chain[1].Actor);
        Assert.Equal(("beta", "gamma", "db"), (chain[1].SourceSegment, chain[1].DestinationSegment, chain[1].Route.Id));
        Assert.True(chain[1].AnyMethod);
        Assert.Equal(["api-worker"], chain[1].Rules);

        // The db service runs as the gamma db-engine, which may call nothing: the chain ends there.
        Assert.Equal([ApiWorker, "spiffe://t/gamma/db-engine"], report.PivotWorkloads);
    }

    [Fact]
    public void CompromisedWorkload_ReachesNothing_WhenItsOnlyGrantHasEnded()
    {
        var segments = AnalysisPolicy.Chain();
        segments["beta"] = segments["beta"].Replace("methods: [GET]\n", "methods: [GET]\n        until: 2026-05-01T00:00:00Z\n", StringComparison.Ordinal);
        var engine = AnalysisPolicy.Engine(segments);

        var report = BlastRadius.Compute(engine, new Compromise { Kind = CompromiseKind.Workload, Name = WebAgent });

        Assert.Empty(report.Paths);
        Assert.Empty(report.PivotWorkloads);
    }

    [Fact]
    public void CompromisedDeviceSegment_ReachesTheUserRoutesOfThatSegment_AndOnward()
    {
        var engine = AnalysisPolicy.Engine(AnalysisPolicy.Chain());

        var report = BlastRadius.Compute(engine, new Compromise { Kind = CompromiseKind.DeviceSegment, Name = "alpha" });

        // alpha's web service runs as the web-agent, so taking the web route hands over the agent's chain too.
        Assert.Equal(["alpha/web", "beta/api", "gamma/db"], report.Paths.Select(p => $"{p.Target.DestinationSegment}/{p.Target.Route.Id}"));
        Assert.Equal("group alpha-staff on a device of alpha", report.Paths[0].Hops[0].Actor);
        Assert.Equal(3, report.Paths[2].Hops.Count);
    }

    [Fact]
    public void CompromisedUser_ReachesOnlyWhatTheirGroupsAndRolesAllow()
    {
        var engine = AnalysisPolicy.Engine(AnalysisPolicy.Chain());

        var admin = BlastRadius.Compute(engine, new Compromise { Kind = CompromiseKind.User, Name = "bob", Roles = ["BetaAdmin"] });
        var nobody = BlastRadius.Compute(engine, new Compromise { Kind = CompromiseKind.User, Name = "eve", Groups = ["visitors"] });

        var path = Assert.Single(admin.Paths);
        Assert.Equal(("beta", "admin", "beta"), (path.Target.DestinationSegment, path.Target.Route.Id, path.Target.SourceSegment));
        Assert.Empty(nobody.Paths);
    }

    [Theory]
    [InlineData("workload:spiffe://t/a/b", CompromiseKind.Workload, "spiffe://t/a/b", "", "")]
    [InlineData("device-segment:hr", CompromiseKind.DeviceSegment, "hr", "", "")]
    [InlineData("user:alice", CompromiseKind.User, "alice", "", "")]
    [InlineData("user:alice,hr-staff,role=PayrollAdmin,contractors", CompromiseKind.User, "alice", "hr-staff|contractors", "PayrollAdmin")]
    public void Compromise_Parses(string text, CompromiseKind kind, string name, string groups, string roles)
    {
        Assert.True(Compromise.TryParse(text, out var compromise, out var error), error);

        Assert.Equal(kind, compromise!.Kind);
        Assert.Equal(name, compromise.Name);
        Assert.Equal(groups, string.Join('|', compromise.Groups));
        Assert.Equal(roles, string.Join('|', compromise.Roles));
        Assert.True(Compromise.TryParse(compromise.ToString(), out var again, out _));
        Assert.Equal((kind, name, groups, roles), (again!.Kind, again.Name, string.Join('|', again.Groups), string.Join('|', again.Roles)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("workload")]
    [InlineData("workload:")]
    [InlineData("host:web-1")]
    public void Compromise_RejectsMalformed(string text)
    {
        Assert.False(Compromise.TryParse(text, out var compromise, out var error));
        Assert.Null(compromise);
        Assert.False(string.IsNullOrEmpty(error));
    }
}
