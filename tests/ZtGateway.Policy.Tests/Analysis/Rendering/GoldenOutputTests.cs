using ZtGateway.Policy.Analysis;
using ZtGateway.Policy.Analysis.Rendering;
using ZtGateway.Policy.Engine;

namespace ZtGateway.Policy.Tests.Analysis.Rendering;

/// <summary>Every report in every format it has, byte for byte, on the analysis test policy and on the shipped sample.</summary>
public sealed class GoldenOutputTests
{
    public static TheoryData<string> Formats => ["text", "mermaid", "dot", "json"];

    [Theory]
    [MemberData(nameof(Formats))]
    public void Graph_OfTheChain(string format) =>
        Golden.AssertMatches($"chain-graph.{Extension(format)}",
            Golden.Capture(o => ReportRenderer.Render(ReachabilityGraph.Build(AnalysisPolicy.Engine(AnalysisPolicy.Chain())), Format(format), o)));

    [Theory]
    [MemberData(nameof(Formats))]
    public void BlastRadius_OfTheChainsWebAgent(string format) =>
        Golden.AssertMatches($"chain-blast-web-agent.{Extension(format)}",
            Golden.Capture(o => ReportRenderer.Render(Blast(AnalysisPolicy.Engine(AnalysisPolicy.Chain()), "workload:spiffe://t/alpha/web-agent"), Format(format), o)));

    [Theory]
    [MemberData(nameof(Formats))]
    public void Graph_OfTheSample(string format) =>
        Golden.AssertMatches($"sample-graph.{Extension(format)}",
            Golden.Capture(o => ReportRenderer.Render(ReachabilityGraph.Build(SamplePolicy.Engine()), Format(format), o)));

    [Theory]
    [MemberData(nameof(Formats))]
    public void BlastRadius_OfTheSamplesLedgerSync(string format) =>
        Golden.AssertMatches($"sample-blast-ledger-sync.{Extension(format)}",
            Golden.Capture(o => ReportRenderer.Render(Blast(SamplePolicy.Engine(), "workload:spiffe://corp.example/finance/ledger-sync"), Format(format), o)));

    [Theory]
    [MemberData(nameof(Formats))]
    public void BlastRadius_OfASampleUser(string format) =>
        Golden.AssertMatches($"sample-blast-user.{Extension(format)}",
            Golden.Capture(o => ReportRenderer.Render(Blast(SamplePolicy.Engine(), "user:alice,hr-staff,role=PayrollAdmin"), Format(format), o)));

    [Theory]
    [MemberData(nameof(Formats))]
    public void BlastRadius_ThatReachesNothing(string format) =>
        Golden.AssertMatches($"sample-blast-none.{Extension(format)}",
            Golden.Capture(o => ReportRenderer.Render(Blast(SamplePolicy.Engine(), "workload:spiffe://nobody"), Format(format), o)));

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Diff_OfTheEditedSample(bool json) =>
        Golden.AssertMatches($"sample-diff.{(json ? "json" : "txt")}",
            Golden.Capture(o => ReportRenderer.Render(PolicyDiff.Compare(SamplePolicy.Engine(), SamplePolicy.Edited()), Format(json), o)));

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Diff_BackFromTheEditedSample(bool json) =>
        Golden.AssertMatches($"sample-diff-back.{(json ? "json" : "txt")}",
            Golden.Capture(o => ReportRenderer.Render(PolicyDiff.Compare(SamplePolicy.Edited(), SamplePolicy.Engine()), Format(json), o)));

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Diff_WithoutChanges(bool json) =>
        Golden.AssertMatches($"sample-diff-none.{(json ? "json" : "txt")}",
            Golden.Capture(o => ReportRenderer.Render(PolicyDiff.Compare(SamplePolicy.Engine(), SamplePolicy.Engine()), Format(json), o)));

    [Fact]
    public void DiffLine_SaysWhatTheTextDiffSays_OnOneLineWithItsSegmentPair()
    {
        var report = PolicyDiff.Compare(SamplePolicy.Engine(), SamplePolicy.Edited());
        var text = Golden.Capture(o => ReportRenderer.Render(report, ReportFormat.Text, o)).Split('\n');

        var lines = report.Changes.Select(ReportRenderer.Line).ToList();

        Assert.Equal(report.Changes.Count, lines.Count);
        Assert.Contains("hr -> hr: weakens GET /payroll/{**rest} (route payroll-read, rule hr-staff) for group hr-staff: MFA made optional", lines);
        foreach (var line in lines)
        {
            var pair = line[..line.IndexOf(": ", StringComparison.Ordinal)];
            var rest = line[(pair.Length + 2)..];
            var verb = rest[..rest.IndexOf(' ', StringComparison.Ordinal)];
            Assert.Contains(text, l => l == $"  {verb,-9} {rest[(verb.Length + 1)..]}");
        }
    }

    private static BlastRadiusReport Blast(PolicyEngine engine, string compromise)
    {
        Assert.True(Compromise.TryParse(compromise, out var start, out var error), error);
        return BlastRadius.Compute(engine, start!);
    }

    private static ReportFormat Format(string format) => Enum.Parse<ReportFormat>(format, ignoreCase: true);

    private static ReportFormat Format(bool json) => json ? ReportFormat.Json : ReportFormat.Text;

    private static string Extension(string format) => format switch
    {
        "text" => "txt",
        "mermaid" => "mmd",
        _ => format,
    };
}
