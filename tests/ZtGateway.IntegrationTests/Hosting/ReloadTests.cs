using System.Diagnostics;
using System.Net;
using ZtGateway.IntegrationTests.Infrastructure;

namespace ZtGateway.IntegrationTests.Hosting;

/// <summary>Policy edits while running: a valid edit takes effect by itself, an invalid one changes nothing.</summary>
public sealed class ReloadTests : IAsyncLifetime
{
    private readonly TestIdentity _identity = new();
    private EchoUpstream _ledger = null!;
    private TestGateway _gateway = null!;

    private string Finance(string group) => $$"""
        segment: finance
        listen: http://127.0.0.1:0
        members:
          networks: [127.0.0.0/8]
        defaults: { device: any }
        services:
          ledger: { destinations: [{{_ledger.Url}}] }
        routes:
          - id: ledger
            match: { path: "/ledger/{**rest}" }
            service: ledger
            allow:
              - { name: staff, from: [finance], users: { groups: [{{group}}] } }
        """;

    public async Task InitializeAsync()
    {
        _ledger = await EchoUpstream.StartAsync("ledger");
        _gateway = await TestGateway.StartAsync(_identity, new Dictionary<string, string> { ["finance"] = Finance("finance-staff") }, watch: true);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _ledger.DisposeAsync();
        _identity.Dispose();
    }

    private async Task<string?> ReasonFor(string group)
    {
        using var client = _gateway.Client("finance");
        var answer = await Problem.SendAsync(client, HttpMethod.Get, "/ledger/x", _identity.User(_gateway.Time.GetUtcNow(), "alice", [group]));
        return answer.Status == HttpStatusCode.OK ? "allowed" : answer.Reason;
    }

    private async Task<bool> Eventually(Func<Task<bool>> condition, TimeSpan within)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < within)
        {
            if (await condition())
            {
                return true;
            }

            await Task.Delay(100);
        }

        return false;
    }

    [Fact]
    public async Task ValidEdit_TakesEffectWithinTwoSeconds()
    {
        Assert.Equal("allowed", await ReasonFor("finance-staff"));
        Assert.Equal("no-matching-rule", await ReasonFor("auditors"));

        var version = _gateway.Host.State.Current.Policy.Version;
        await File.WriteAllTextAsync(Path.Combine(_gateway.Directory, "segments", "finance.yaml"), Finance("auditors"));

        Assert.True(await Eventually(async () => await ReasonFor("auditors") == "allowed", TimeSpan.FromSeconds(2)));
        Assert.Equal("no-matching-rule", await ReasonFor("finance-staff"));
        Assert.NotEqual(version, _gateway.Host.State.Current.Policy.Version);
    }

    [Fact]
    public async Task InvalidEdit_KeepsTheLastGoodPolicyServing()
    {
        var version = _gateway.Host.State.Current.Policy.Version;
        await File.WriteAllTextAsync(Path.Combine(_gateway.Directory, "segments", "finance.yaml"),
            Finance("auditors").Replace("service: ledger", "service: ledgr", StringComparison.Ordinal));

        var result = await _gateway.Host.ReloadAsync();

        Assert.False(result.Succeeded);
        Assert.Contains(result.Diagnostics, d => d.Message.Contains("ledgr", StringComparison.Ordinal));
        await Task.Delay(600);
        Assert.Equal(version, _gateway.Host.State.Current.Policy.Version);
        Assert.Equal("allowed", await ReasonFor("finance-staff"));
        Assert.Equal("no-matching-rule", await ReasonFor("auditors"));
    }

    [Fact]
    public async Task BrokenYaml_KeepsTheLastGoodPolicyServing()
    {
        await File.WriteAllTextAsync(Path.Combine(_gateway.Directory, "segments", "finance.yaml"), "segment: finance\nroutes: [ {\n");
        await Task.Delay(800);

        Assert.Equal("allowed", await ReasonFor("finance-staff"));
    }

    [Fact]
    public async Task EditNamingAMissingTrustFile_IsRefused_WritesNoKey_AndTheLastGoodPolicyKeepsServing()
    {
        var version = _gateway.Host.State.Current.Policy.Version;
        var gatewayFile = _gateway.GatewayFile;
        await File.WriteAllTextAsync(gatewayFile, (await File.ReadAllTextAsync(gatewayFile))
            .Replace("keys/idp.jwks.json", "keys/idp-typo.jwks.json", StringComparison.Ordinal));

        var result = await _gateway.Host.ReloadAsync();

        Assert.False(result.Succeeded);
        Assert.Contains(result.Diagnostics, d => d.Message.Contains("'keys/idp-typo.jwks.json' does not exist", StringComparison.Ordinal));
        Assert.False(File.Exists(Path.Combine(_gateway.Directory, "keys", "idp-typo.jwks.json")));
        Assert.False(File.Exists(Path.Combine(_gateway.Directory, "keys", "idp-typo.key.pem")));
        Assert.Equal(version, _gateway.Host.State.Current.Policy.Version);
        Assert.Equal("allowed", await ReasonFor("finance-staff"));
    }
}
