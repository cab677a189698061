using ZtGateway.Policy.Analysis;
using ZtGateway.Policy.Engine;
using ZtGateway.Policy.Loading;
using ZtGateway.Policy.Tests.Loading;
using ZtGateway.Policy.Tests.Schema;

namespace ZtGateway.Policy.Tests.Analysis.Rendering;

/// <summary>The shipped sample policy (<c>config/</c>), as the CLI loads it, and an edited copy of it for diffs.</summary>
internal static class SamplePolicy
{
    public static readonly DateTimeOffset At = new(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);

    public static PolicyEngine Engine() => Load(Repository.PathOf("config", "gateway.yaml"));

    /// <summary>
    /// The sample with hr's admin login age raised to 2d, its ledger grant extended, its deny rule removed, contractors
    /// added to hr-staff with mfa optional, and finance's accountants tightened to 30m.
    /// </summary>
    public static PolicyEngine Edited()
    {
        using var folder = new PolicyFolder();
        folder.Write("gateway.yaml", File.ReadAllText(Repository.PathOf("config", "gateway.yaml")));
        folder.Write("segments/engineering.yaml", Segment("engineering"));
        folder.Write("segments/finance.yaml", Change(Segment("finance"), "maxAuthAge: 1h", "maxAuthAge: 30m"));
        var hr = Change(Segment("hr"), "maxAuthAge: 15m", "maxAuthAge: 2d");
        hr = Change(hr, "until: 2027-06-30T00:00:00Z", "until: 2027-12-31T00:00:00Z");
        hr = Change(hr, "    deny:\n      - name: no-contractors\n        users: { groups: [contractors] }\n", string.Empty);
        hr = Change(hr, "users: { groups: [hr-staff] }", "users: { groups: [hr-staff, contractors] }\n        mfa: optional");
        folder.Write("segments/hr.yaml", hr);
        return Load(folder.GatewayFile);
    }

    private static PolicyEngine Load(string gatewayFile)
    {
        var clock = new PinnedTimeProvider(At);
        var result = PolicyLoader.Load(gatewayFile, clock, new PolicyLoadOptions { KeyFiles = KeyFileCheck.Skip });
        Assert.True(result.Succeeded, string.Join('\n', result.Diagnostics.Select(d => d.Format(Repository.Root))));
        return new PolicyEngine(result.Policy!, clock);
    }

    private static string Segment(string name) =>
        File.ReadAllText(Repository.PathOf("config", "segments", name + ".yaml")).ReplaceLineEndings("\n");

    private static string Change(string text, string old, string replacement)
    {
        Assert.Contains(old, text, StringComparison.Ordinal);
        return text.Replace(old, replacement, StringComparison.Ordinal);
    }
}
