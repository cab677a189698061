using System.Text;
using System.Text.RegularExpressions;

namespace ZtGateway.Tests.Audit.Ocsf;

/// <summary>The audit lines README.md shows are valid OCSF 1.8.0, so the example a SIEM engineer copies is one the schema takes.</summary>
public sealed partial class ReadmeAuditLinesTests
{
    [GeneratedRegex("```json\\n(?<line>\\{.*\\})\\n```")]
    private static partial Regex JsonBlock();

    [Fact]
    public void EveryJsonLineOfTheReadme_IsValidOcsf()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "ZtGateway.sln")))
        {
            directory = directory.Parent;
        }

        Assert.NotNull(directory);
        var lines = JsonBlock().Matches(File.ReadAllText(Path.Combine(directory.FullName, "README.md"))).Select(m => m.Groups["line"].Value).ToList();
        Assert.True(lines.Count >= 3, $"{lines.Count} audit lines in README.md");
        Assert.All(lines, line => Assert.Empty(OcsfSchema.Vendored.Validate(Encoding.UTF8.GetBytes(line))));
    }
}
