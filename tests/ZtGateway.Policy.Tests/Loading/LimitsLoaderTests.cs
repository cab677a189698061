using ZtGateway.Policy.Configuration;

namespace ZtGateway.Policy.Tests.Loading;

/// <summary><c>gateway.limits</c>: the refusal allowance per source, its defaults, and every error with its line.</summary>
public sealed class LimitsLoaderTests
{
    [Fact]
    public void Absent_TheLimitIsOn_WithTheDefaults()
    {
        using var folder = PolicySamples.Minimal().Write("gateway.yaml", PolicySamples.JwksIssuer);

        var limits = Load(folder);

        Assert.Equal(new RefusalRate(50, TimeSpan.FromSeconds(1)), limits.RefusalsPerSource);
        Assert.Equal(100, limits.RefusalBurst);
    }

    [Theory]
    [InlineData("refusalsPerSource: 50/s", 50, 1, 100)]
    [InlineData("refusalsPerSource: 600/m", 600, 60, 100)]
    [InlineData("refusalsPerSource: 1/m\n    refusalBurst: 5", 1, 60, 5)]
    [InlineData("refusalBurst: 20", 50, 1, 20)]
    [InlineData("refusalsPerSource: \"2000/s\"", 2000, 1, 100)]
    public void Reads_RateAndBurst(string keys, int count, int periodSeconds, int burst)
    {
        using var folder = PolicySamples.Minimal().Write("gateway.yaml", "gateway:\n  limits:\n    " + keys + "\n" + PolicySamples.JwksIssuer);

        var limits = Load(folder);

        Assert.Equal(new RefusalRate(count, TimeSpan.FromSeconds(periodSeconds)), limits.RefusalsPerSource);
        Assert.Equal(burst, limits.RefusalBurst);
    }

    [Fact]
    public void Off_TurnsTheLimitOff()
    {
        using var folder = PolicySamples.Minimal().Write("gateway.yaml", "gateway:\n  limits:\n    refusalsPerSource: off\n" + PolicySamples.JwksIssuer);

        Assert.Null(Load(folder).RefusalsPerSource);
    }

    [Fact]
    public void Rate_WritesAsItIsRead()
    {
        Assert.Equal("50/s", new RefusalRate(50, TimeSpan.FromSeconds(1)).ToString());
        Assert.Equal("600/m", new RefusalRate(600, TimeSpan.FromMinutes(1)).ToString());
    }

    public static TheoryData<string, string> Errors => new()
    {
        { "refusalsPerSource: 50", "gateway.yaml:3:24: error: 'gateway.limits.refusalsPerSource' must be a rate such as 50/s or 600/m (a positive whole number per second or per minute), or off, not '50'" },
        { "refusalsPerSource: 50/h", "gateway.yaml:3:24: error: 'gateway.limits.refusalsPerSource' must be a rate such as 50/s or 600/m (a positive whole number per second or per minute), or off, not '50/h'" },
        { "refusalsPerSource: 0/s", "gateway.yaml:3:24: error: 'gateway.limits.refusalsPerSource' must be a rate such as 50/s or 600/m (a positive whole number per second or per minute), or off, not '0/s'" },
        { "refusalsPerSource: -5/s", "gateway.yaml:3:24: error: 'gateway.limits.refusalsPerSource' must be a rate such as 50/s or 600/m (a positive whole number per second or per minute), or off, not '-5/s'" },
        { "refusalsPerSource: 5 /s", "gateway.yaml:3:24: error: 'gateway.limits.refusalsPerSource' must be a rate such as 50/s or 600/m (a positive whole number per second or per minute), or off, not '5 /s'" },
        { "refusalsPerSource: /s", "gateway.yaml:3:24: error: 'gateway.limits.refusalsPerSource' must be a rate such as 50/s or 600/m (a positive whole number per second or per minute), or off, not '/s'" },
        { "refusalsPerSource: 99999999999/s", "gateway.yaml:3:24: error: 'gateway.limits.refusalsPerSource' must be a rate such as 50/s or 600/m (a positive whole number per second or per minute), or off, not '99999999999/s'" },
        { "refusalsPerSource: Off", "gateway.yaml:3:24: error: 'gateway.limits.refusalsPerSource' must be a rate such as 50/s or 600/m (a positive whole number per second or per minute), or off, not 'Off'" },
        { "refusalsPerSource: [50/s]", "gateway.yaml:3:24: error: 'gateway.limits.refusalsPerSource' must be a single value, not a list" },
        { "refusalBurst: 0", "gateway.yaml:3:19: error: 'gateway.limits.refusalBurst' must be a positive whole number, not '0'" },
        { "refusalBurst: lots", "gateway.yaml:3:19: error: 'gateway.limits.refusalBurst' must be a positive whole number, not 'lots'" },
        { "refusalBurst: 1.5", "gateway.yaml:3:19: error: 'gateway.limits.refusalBurst' must be a positive whole number, not '1.5'" },
        { "refusalsPerSecond: 50", "gateway.yaml:3:5: error: unknown key 'refusalsPerSecond' in 'gateway.limits'" },
    };

    [Theory]
    [MemberData(nameof(Errors))]
    public void Rejects_WithTheLineOfTheBadValue(string keys, string expected)
    {
        using var folder = PolicySamples.Minimal().Write("gateway.yaml", "gateway:\n  limits:\n    " + keys + "\n" + PolicySamples.JwksIssuer);

        var result = folder.Load();

        Assert.Null(result.Policy);
        Assert.Equal(expected, folder.FormatAll(result));
    }

    [Fact]
    public void Rejects_EveryBadKeyAtOnce()
    {
        using var folder = PolicySamples.Minimal().Write("gateway.yaml", "gateway:\n  limits:\n    refusalsPerSource: fast\n    refusalBurst: -1\n" + PolicySamples.JwksIssuer);

        var result = folder.Load();

        Assert.Equal(2, result.Diagnostics.Count);
        Assert.Contains("gateway.yaml:3:24: error: 'gateway.limits.refusalsPerSource'", folder.FormatAll(result), StringComparison.Ordinal);
        Assert.Contains("gateway.yaml:4:19: error: 'gateway.limits.refusalBurst'", folder.FormatAll(result), StringComparison.Ordinal);
    }

    [Fact]
    public void Rejects_LimitsThatAreNotAMapping()
    {
        using var folder = PolicySamples.Minimal().Write("gateway.yaml", "gateway:\n  limits: 50/s\n" + PolicySamples.JwksIssuer);

        var result = folder.Load();

        Assert.Equal("gateway.yaml:2:11: error: 'gateway.limits' must be a mapping, not a single value", folder.FormatAll(result));
    }

    private static LimitsSettings Load(PolicyFolder folder)
    {
        var result = folder.Load();
        Assert.True(result.Succeeded, folder.FormatAll(result));
        return result.Policy!.Gateway.Gateway.Limits;
    }
}
