using ZtGateway.Policy.Tests.Schema;

namespace ZtGateway.Policy.Tests.Loading;

/// <summary>The YAML samples of docs/design.md (sections 2.1 and 2.2) are a valid policy: the contract stays true.</summary>
public sealed class DesignSamplesTests
{
    private static string Block(string heading)
    {
        var lines = File.ReadAllLines(Repository.PathOf("docs", "design.md"));
        var start = Array.FindIndex(lines, l => l.StartsWith(heading, StringComparison.Ordinal));
        Assert.True(start >= 0, $"docs/design.md has no heading '{heading}'");
        var open = Array.FindIndex(lines, start, l => l.StartsWith("```yaml", StringComparison.Ordinal));
        var close = Array.FindIndex(lines, open + 1, l => l.StartsWith("```", StringComparison.Ordinal));
        return string.Join('\n', lines[(open + 1)..close]) + "\n";
    }

    [Fact]
    public void GatewayAndSegmentSamples_LoadWithoutErrors()
    {
        using var folder = new PolicyFolder()
            .Write("gateway.yaml", Block("### 2.1"))
            .Write("segments/hr.yaml", Block("### 2.2"))
            .Write("segments/finance.yaml", PolicySamples.MinimalFinance);

        var result = folder.Load(DateTimeOffset.UtcNow);

        Assert.True(result.Succeeded, folder.FormatAll(result));
        Assert.Contains("hr", result.Policy!.Segments.Keys);
    }
}
