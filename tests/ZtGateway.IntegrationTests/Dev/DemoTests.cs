using ZtGateway.Cli;
using ZtGateway.IntegrationTests.Infrastructure;

namespace ZtGateway.IntegrationTests.Dev;

/// <summary>The embedded demo plays its whole story, one gateway per segment sharing state, and every step gets its expected answer.</summary>
public sealed class DemoTests
{
    [Fact]
    public async Task DemoOnce_PlaysTheStory_AndExitsZero()
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        var exit = await ZtgwCommand.InvokeAsync(["demo", "--once", "--dynamic-ports"], stdout, stderr);

        Assert.True(exit == 0, stdout + "\n" + stderr);
        Assert.Contains("an embedded Garnet server at 127.0.0.1:", stdout.ToString(), StringComparison.Ordinal);
        Assert.Contains("password=*****", stdout.ToString(), StringComparison.Ordinal);
        Assert.Contains("segment-not-allowed", stdout.ToString(), StringComparison.Ordinal);
        Assert.Contains("source-mismatch", stdout.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("UNEXPECTED", stdout.ToString(), StringComparison.Ordinal);
        Assert.Matches(@"\n\d+ passed, 0 failed", stdout.ToString());
    }

    [Fact]
    public async Task DemoOnce_WithRedis_TheQuarantineSentToHr_RefusesTheLaptopAtFinance()
    {
        await using var redis = await RedisServer.StartAsync();
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        var exit = await ZtgwCommand.InvokeAsync(["demo", "--once", "--dynamic-ports", "--redis", redis.Configuration], stdout, stderr);

        var output = stdout.ToString();
        Assert.True(exit == 0, output + "\n" + stderr);
        Assert.Contains("the Redis at " + redis.Configuration, output, StringComparison.Ordinal);
        Assert.Matches(@"\n\d+ +the EDR +reports alice's laptop not compliant \(CAEP\) +hr /ssf/events +202 accepted +202 accepted +ok", output);
        Assert.Matches(@"\n\d+ +alice \(finance, MFA, quarantined laptop\) +reads the finance ledger again +finance +403 device-quarantined +403 device-quarantined +ok", output);
        Assert.Matches(@"\n\d+ +an attacker who captured the SET +replays it to another gateway +engineering /ssf/events +400 jti already received +400 jti already received +ok", output);
        Assert.DoesNotContain("UNEXPECTED", output, StringComparison.Ordinal);
        Assert.Matches(@"\n\d+ passed, 0 failed", output);
    }
}
