using System.Globalization;
using System.Text.Json;
using ZtGateway.Cli;
using ZtGateway.IntegrationTests.Infrastructure;

namespace ZtGateway.IntegrationTests.Governance;

/// <summary>The governance verbs on the shipped sample config: test, diff, graph, explain and validate's grant warnings.</summary>
public sealed class GovernanceCommandTests
{
    private static string SampleConfig => RepositoryFiles.PathOf("config", "gateway.yaml");

    [Fact]
    public async Task Test_ShippedPolicyTests_AllPass()
    {
        var (exit, stdout, stderr) = await RunAsync("test", RepositoryFiles.PathOf("config", "policy-tests.yaml"));

        Assert.True(exit == 0, stdout + stderr);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Matches(@"^\d+ passed, 0 failed$", lines[^1]);
        Assert.True(int.Parse(lines[^1].Split(' ')[0], CultureInfo.InvariantCulture) >= 15);
        Assert.DoesNotContain(lines, l => l.StartsWith("FAIL", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Test_FailingCase_ExitsOne_AndSaysWhy()
    {
        var directory = RepositoryFiles.CopyOfSampleConfig();
        try
        {
            var file = Path.Combine(directory, "policy-tests.yaml");
            var text = await File.ReadAllTextAsync(file);
            await File.WriteAllTextAsync(file, text.Replace(
                "expect: { decision: deny, reason: segment-not-allowed, rule: }",
                "expect: { decision: allow, rule: hr-staff }",
                StringComparison.Ordinal));

            var (exit, stdout, _) = await RunAsync("test", file);

            Assert.Equal(1, exit);
            Assert.Contains("FAIL  a finance user cannot reach hr payroll", stdout, StringComparison.Ordinal);
            Assert.Contains("decision: expected allow, got deny", stdout, StringComparison.Ordinal);
            Assert.Contains(" passed, 1 failed", stdout, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Test_MalformedFile_ExitsOne_WithPositions()
    {
        var directory = RepositoryFiles.CopyOfSampleConfig();
        try
        {
            var file = Path.Combine(directory, "broken-tests.yaml");
            await File.WriteAllTextAsync(file, "config: gateway.yaml\ncases:\n  - name: a\n    request: { segment: hr, path: /x }\n    expect: { decision: perhaps }\n");

            var (exit, _, stderr) = await RunAsync("test", file);

            Assert.Equal(1, exit);
            Assert.Contains("broken-tests.yaml:5:25: error: case 'a': 'expect.decision' must be allow or deny, not 'perhaps'", stderr, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Diff_ExitsZero_WhenNothingOpens_AndThree_WhenSomethingDoes()
    {
        var directory = RepositoryFiles.CopyOfSampleConfig();
        try
        {
            var changed = Path.Combine(directory, "gateway.yaml");
            Assert.Equal(0, (await RunAsync("diff", SampleConfig, changed)).Exit);

            var hr = Path.Combine(directory, "segments", "hr.yaml");
            await File.WriteAllTextAsync(hr, (await File.ReadAllTextAsync(hr)).Replace(
                "        from: [hr]\n        users: { groups: [hr-staff] }",
                "        from: [hr, engineering]\n        users: { groups: [hr-staff] }",
                StringComparison.Ordinal));

            var (exit, stdout, _) = await RunAsync("diff", SampleConfig, changed);
            var (back, _, _) = await RunAsync("diff", changed, SampleConfig);
            var (_, json, _) = await RunAsync("diff", SampleConfig, changed, "--json");

            Assert.Equal(3, exit);
            Assert.Contains("engineering -> hr", stdout, StringComparison.Ordinal);
            Assert.Contains("opens     GET /payroll/{**rest} (route payroll-read, rule hr-staff) for group hr-staff", stdout, StringComparison.Ordinal);
            Assert.Equal(0, back);
            using var document = JsonDocument.Parse(json);
            Assert.True(document.RootElement.GetProperty("opens").GetBoolean());
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Diff_InvalidPolicy_ExitsOne()
    {
        var (exit, _, stderr) = await RunAsync("diff", SampleConfig, Path.Combine(Path.GetTempPath(), "no-such-dir", "gateway.yaml"));

        Assert.Equal(1, exit);
        Assert.Contains("file not found", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Graph_BlastRadiusOfTheLedgerSync_IsHrPayrollRead()
    {
        var (exit, stdout, stderr) = await RunAsync("graph", "--config", SampleConfig,
            "--compromised", "workload:spiffe://corp.example/finance/ledger-sync", "--format", "json");

        Assert.True(exit == 0, stderr);
        using var json = JsonDocument.Parse(stdout);
        var path = Assert.Single(json.RootElement.GetProperty("paths").EnumerateArray());
        Assert.Equal(("hr", "payroll-read"), (path.GetProperty("segment").GetString(), path.GetProperty("route").GetString()));
    }

    [Theory]
    [InlineData("text", "hr: Human resources systems")]
    [InlineData("mermaid", "flowchart LR")]
    [InlineData("dot", "digraph ztgw {")]
    [InlineData("json", "\"grants\"")]
    public async Task Graph_WritesEachFormat(string format, string expected)
    {
        var (exit, stdout, stderr) = await RunAsync("graph", "--config", SampleConfig, "--format", format);

        Assert.True(exit == 0, stderr);
        Assert.Contains(expected, stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Graph_MalformedCompromise_IsAUsageError()
    {
        var (exit, _, stderr) = await RunAsync("graph", "--config", SampleConfig, "--compromised", "host:web-1");

        Assert.Equal(2, exit);
        Assert.Contains("must start with workload:, device-segment: or user:", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Explain_ByAttributes_SaysWhyEachRuleDidNotApply()
    {
        var (exit, stdout, stderr) = await RunAsync("explain", "--config", SampleConfig, "--segment", "hr", "--method", "GET",
            "--path", "/payroll/x", "--user", "alice", "--groups", "hr-staff", "--amr", "pwd,mfa", "--auth-age", "10m",
            "--device-segment", "finance", "--compliant", "--managed");

        Assert.True(exit == 0, stderr);
        Assert.Contains("decision  deny", stdout, StringComparison.Ordinal);
        Assert.Contains("reason    segment-not-allowed", stdout, StringComparison.Ordinal);
        Assert.Contains("route     payroll-read (service payroll)", stdout, StringComparison.Ordinal);
        Assert.Contains("allow hr-staff     does not apply: from [hr] does not include source segment finance", stdout, StringComparison.Ordinal);
        Assert.Contains("allow ledger-sync  does not apply: principal is a user; rule names workloads", stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--token", "x", "--user", "alice")]
    [InlineData("--user", "alice", "--workload", "w")]
    [InlineData("--compliant")]
    [InlineData("--groups", "hr-staff")]
    [InlineData("--ip", "not-an-ip")]
    [InlineData("--user", "alice", "--auth-age", "soon")]
    public async Task Explain_ContradictoryOrMalformedOptions_AreUsageErrors(params string[] options)
    {
        var (exit, _, _) = await RunAsync(["explain", "--config", SampleConfig, "--segment", "hr", "--path", "/payroll/x", .. options]);

        Assert.Equal(2, exit);
    }

    [Fact]
    public async Task Validate_ListsGrantsAboutToExpire_AndExpiredOnes()
    {
        var directory = RepositoryFiles.CopyOfSampleConfig();
        try
        {
            var soon = DateTimeOffset.UtcNow.AddDays(3).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
            var hr = Path.Combine(directory, "segments", "hr.yaml");
            await File.WriteAllTextAsync(hr, (await File.ReadAllTextAsync(hr)).Replace("until: 2027-06-30T00:00:00Z", "until: " + soon, StringComparison.Ordinal));
            var engineering = Path.Combine(directory, "segments", "engineering.yaml");
            await File.WriteAllTextAsync(engineering, (await File.ReadAllTextAsync(engineering)).Replace(
                "        methods: [GET, POST]", "        methods: [GET, POST]\n        until: 2020-01-01T00:00:00Z", StringComparison.Ordinal));

            var (exit, stdout, stderr) = await RunAsync("validate", "--config", Path.Combine(directory, "gateway.yaml"), "--no-key-files");

            Assert.True(exit == 0, stderr);
            Assert.Contains($"warning: rule 'ledger-sync': grant expires at {soon} (in 3 days)", stdout, StringComparison.Ordinal);
            Assert.Contains("warning: rule 'ci-runner': grant expired at 2020-01-01T00:00:00Z; it no longer applies", stdout, StringComparison.Ordinal);
            Assert.Contains(", 2 warnings)", stdout, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static Task<(int Exit, string Stdout, string Stderr)> RunAsync(params string[] args) => RunCoreAsync(args);

    private static async Task<(int Exit, string Stdout, string Stderr)> RunCoreAsync(string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exit = await ZtgwCommand.InvokeAsync(args, stdout, stderr);
        return (exit, stdout.ToString(), stderr.ToString());
    }
}
