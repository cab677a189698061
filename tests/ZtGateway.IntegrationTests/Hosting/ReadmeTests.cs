using System.Text.RegularExpressions;
using ZtGateway.IntegrationTests.Infrastructure;

namespace ZtGateway.IntegrationTests.Hosting;

/// <summary>The commands a newcomer reads first are the commands CI runs, word for word.</summary>
public sealed partial class ReadmeTests
{
    [Fact]
    public void EveryQuickStartCommand_IsRunByCi()
    {
        var readme = File.ReadAllText(RepositoryFiles.PathOf("README.md"));
        var ci = File.ReadAllText(RepositoryFiles.PathOf(".ci", "run"));
        var section = readme[readme.IndexOf("## Two commands", StringComparison.Ordinal)..];
        section = section[..section.IndexOf("\n## ", 5, StringComparison.Ordinal)];

        var commands = ShellBlock().Matches(section).Select(m => m.Groups[1].Value.Trim()).ToList();

        Assert.Equal(2, commands.Count);
        Assert.StartsWith("dotnet run --project src/ZtGateway.Cli -- demo", commands[0], StringComparison.Ordinal);
        Assert.Equal("dotnet test ZtGateway.sln", commands[1]);
        foreach (var command in commands)
        {
            Assert.Contains(command, ci, StringComparison.Ordinal);
        }
    }

    [GeneratedRegex("```sh\\n([^`]+)```")]
    private static partial Regex ShellBlock();
}
