using System.Text.Json;
using ZtGateway.Cli;
using ZtGateway.IntegrationTests.Infrastructure;

namespace ZtGateway.IntegrationTests.Identity;

/// <summary><c>ztgw explain --bound</c> on the sample config with a rule that asks for a bound credential.</summary>
public sealed class ExplainBoundTests : IDisposable
{
    private readonly string _directory = RepositoryFiles.CopyOfSampleConfig();

    public ExplainBoundTests()
    {
        var hr = Path.Combine(_directory, "segments", "hr.yaml");
        var text = File.ReadAllText(hr);
        const string Rule = "        users: { roles: [PayrollAdmin] }\n";
        Assert.Contains(Rule, text, StringComparison.Ordinal);
        File.WriteAllText(hr, text.Replace(Rule, Rule + "        boundToken: true\n", StringComparison.Ordinal));
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Theory]
    [InlineData(false, "deny", "token-unbound")]
    [InlineData(true, "allow", "allowed")]
    public async Task Explain_TakesBound_AsTheGatewayWouldTakeACertificateBoundToken(bool bound, string decision, string reason)
    {
        string[] args =
        [
            "explain", "--config", Path.Combine(_directory, "gateway.yaml"), "--segment", "hr", "--path", "/payroll/admin/run",
            "--user", "alice", "--roles", "PayrollAdmin", "--amr", "pwd,mfa", "--device-segment", "hr", "--compliant", "--managed", "--json",
        ];
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        var exit = await ZtgwCommand.InvokeAsync(bound ? [.. args, "--bound"] : args, stdout, stderr);

        Assert.True(exit == 0, stderr.ToString());
        using var json = JsonDocument.Parse(stdout.ToString());
        Assert.Equal(decision, json.RootElement.GetProperty("decision").GetString());
        Assert.Equal(reason, json.RootElement.GetProperty("reason").GetString());
        Assert.Equal("payroll-admins", json.RootElement.GetProperty("rule").GetString());
    }
}
