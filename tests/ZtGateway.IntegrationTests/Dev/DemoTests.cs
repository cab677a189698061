using ZtGateway.Cli;

namespace ZtGateway.IntegrationTests.Dev;

/// <summary>The embedded demo plays its whole story and every step gets its expected answer.</summary>
public sealed class DemoTests
{
    [Fact]
    public async Task DemoOnce_PlaysTheStory_AndExitsZero()
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        var exit = await ZtgwCommand.InvokeAsync(["demo", "--once", "--dynamic-ports"], stdout, stderr);

        Assert.True(exit == 0, stdout + "\n" + stderr);
        Assert.Contains("segment-not-allowed", stdout.ToString(), StringComparison.Ordinal);
        Assert.Contains("source-mismatch", stdout.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("UNEXPECTED", stdout.ToString(), StringComparison.Ordinal);
        Assert.Matches(@"\n\d+ passed, 0 failed", stdout.ToString());
    }
}
