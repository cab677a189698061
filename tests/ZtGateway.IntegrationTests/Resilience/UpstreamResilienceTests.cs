using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;
using ZtGateway.Enforcement.Resilience;
using ZtGateway.IntegrationTests.Infrastructure;

namespace ZtGateway.IntegrationTests.Resilience;

/// <summary>
/// Upstream failures on real loopback listeners: a dead destination is skipped for idempotent requests and never
/// for others; no reachable destination is 503 upstream-unavailable; a silent one is 504 upstream-timeout; each
/// request is audited once with its final outcome.
/// </summary>
public sealed class UpstreamResilienceTests : IAsyncLifetime
{
    private readonly TestIdentity _identity = new();
    private readonly List<IAsyncDisposable> _disposables = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var disposable in Enumerable.Reverse(_disposables))
        {
            await disposable.DisposeAsync();
        }

        _identity.Dispose();
    }

    private async Task<TestGateway> StartAsync(string destinations, UpstreamResilienceOptions? resilience = null)
    {
        var segments = new Dictionary<string, string>
        {
            ["finance"] = $$"""
                segment: finance
                listen: http://127.0.0.1:0
                members:
                  networks: [127.0.0.0/8]
                defaults: { device: any }
                services:
                  ledger:
                    destinations: [{{destinations}}]
                routes:
                  - id: ledger
                    match: { path: "/ledger/{**rest}" }
                    service: ledger
                    allow:
                      - { name: finance-staff, from: [finance], users: { groups: [finance-staff] } }
                """,
        };
        var gateway = await TestGateway.StartAsync(_identity, segments,
            configure: options => resilience is null ? options : options with { Resilience = resilience });
        _disposables.Add(gateway);
        return gateway;
    }

    private async Task<EchoUpstream> UpstreamAsync(string name)
    {
        var upstream = await EchoUpstream.StartAsync(name);
        _disposables.Add(upstream);
        return upstream;
    }

    private static string Dead() => $"http://127.0.0.1:{Topology.UnusedPort()}";

    private string Alice(TestGateway gateway) => _identity.User(gateway.Time.GetUtcNow(), "alice", ["finance-staff"]);

    [Fact]
    public async Task IdempotentGets_KeepSucceeding_WhenOneOfTwoDestinationsIsKilled()
    {
        var first = await UpstreamAsync("first");
        var second = await UpstreamAsync("second");
        var gateway = await StartAsync($"{first.Url}, {second.Url}");
        using var client = gateway.Client("finance");
        var token = Alice(gateway);
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await Problem.SendAsync(client, HttpMethod.Get, "/ledger/warm", token)).Status);
        }

        Assert.NotEmpty(first.Requests);
        await first.DisposeAsync();
        _disposables.Remove(first);
        var servedBefore = second.Requests.Count;

        for (var i = 0; i < 20; i++)
        {
            var answer = await Problem.SendAsync(client, HttpMethod.Get, $"/ledger/{i}", token);
            Assert.True(answer.Status == HttpStatusCode.OK, $"request {i}: {(int)answer.Status} {answer.Reason}");
        }

        Assert.Equal(servedBefore + 20, second.Requests.Count);
        var metrics = gateway.Host.Telemetry.Metrics.Render();
        Assert.Matches(@"ztgw_upstream_retries_total\{[^}]*ztgw_service=""ledger""[^}]*\} [1-9]", metrics);
        Assert.Matches(@"ztgw_upstream_failures_total\{[^}]*ztgw_upstream_error=""connect""[^}]*\} [1-9]", metrics);
        var lines = await AuditLines.ReadWithoutPolicyChangesAsync(gateway.AuditFile);
        Assert.Equal(24, lines.Length);
        Assert.All(lines, line => Assert.Equal("allowed", Reason(line)));
    }

    [Fact]
    public async Task Post_ToTheDeadDestination_IsNotRetried()
    {
        var live = await UpstreamAsync("live");
        var gateway = await StartAsync($"{live.Url}, {Dead()}");
        using var client = gateway.Client("finance");
        var token = Alice(gateway);

        // Round robin over two destinations: within two POSTs one goes to the dead destination.
        var answers = new List<Problem>();
        for (var i = 0; i < 2; i++)
        {
            answers.Add(await Problem.SendAsync(client, HttpMethod.Post, $"/ledger/{i}", token,
                r => r.Content = new StringContent("{\"amount\":1}", System.Text.Encoding.UTF8, "application/json")));
        }

        var failed = Assert.Single(answers, a => a.Status != HttpStatusCode.OK);
        Assert.Equal(HttpStatusCode.BadGateway, failed.Status);
        Assert.Equal("upstream-unavailable", failed.Reason);
        Assert.Single(live.Requests);
        Assert.All(live.Requests, r => Assert.Equal("POST", r.Method));
        var lines = await AuditLines.ReadWithoutPolicyChangesAsync(gateway.AuditFile);
        Assert.Equal(2, lines.Length);
        Assert.Single(lines, line => Reason(line) == "upstream-unavailable");
    }

    [Fact]
    public async Task BothDestinationsDead_Is503UpstreamUnavailable_AuditedOnce()
    {
        var gateway = await StartAsync($"{Dead()}, {Dead()}");
        using var client = gateway.Client("finance");

        var answer = await Problem.SendAsync(client, HttpMethod.Get, "/ledger/x", Alice(gateway));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, answer.Status);
        Assert.Equal("application/problem+json", answer.ContentType);
        Assert.Equal("upstream-unavailable", answer.Reason);
        var line = Assert.Single(await AuditLines.ReadWithoutPolicyChangesAsync(gateway.AuditFile));
        using var json = JsonDocument.Parse(line);
        Assert.Equal(503, json.RootElement.GetProperty("http_response").GetProperty("code").GetInt32());
        Assert.Equal(answer.DecisionId, json.RootElement.GetProperty("metadata").GetProperty("uid").GetString());
        Assert.Equal("upstream-unavailable", Reason(line));
    }

    [Fact]
    public async Task TheOnlyDestinationDead_Is503_ThenItsOpenCircuitAnswers503WithoutTrying()
    {
        var gateway = await StartAsync(Dead(), new UpstreamResilienceOptions { BreakerMinimumThroughput = 2, BreakerFailureRatio = 0.5 });
        using var client = gateway.Client("finance");
        var token = Alice(gateway);

        // A GET and a POST alike: there is nowhere else to go, so both are 503 upstream-unavailable, connection refused...
        var ids = new List<string>();
        foreach (var method in new[] { HttpMethod.Get, HttpMethod.Post, HttpMethod.Get, HttpMethod.Post })
        {
            var answer = await Problem.SendAsync(client, method, "/ledger/x", token, r => r.Content = method == HttpMethod.Post ? new StringContent("x") : null);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, answer.Status);
            Assert.Equal("upstream-unavailable", answer.Reason);
            ids.Add(answer.DecisionId!);
        }

        // ...two of them opened the circuit: the later ones were not attempted.
        var metrics = gateway.Host.Telemetry.Metrics.Render();
        Assert.Matches(@"ztgw_upstream_failures_total\{[^}]*ztgw_upstream_error=""connect""[^}]*\} 2\b", metrics);
        Assert.Matches(@"ztgw_upstream_failures_total\{[^}]*ztgw_upstream_error=""circuit-open""[^}]*\} 2\b", metrics);

        // Each answer audited once, with its status and reason.
        var lines = await AuditLines.ReadWithoutPolicyChangesAsync(gateway.AuditFile);
        Assert.Equal(ids.Order(StringComparer.Ordinal), lines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("metadata").GetProperty("uid").GetString()!)
            .Order(StringComparer.Ordinal));
        Assert.All(lines, l => Assert.Equal("upstream-unavailable", Reason(l)));
    }

    [Fact]
    public async Task OpenCircuit_KeepsTheDeadDestinationOut_ForAnyMethod()
    {
        var live = await UpstreamAsync("live");
        var gateway = await StartAsync($"{live.Url}, {Dead()}",
            new UpstreamResilienceOptions { BreakerMinimumThroughput = 2, BreakerFailureRatio = 0.5 });
        using var client = gateway.Client("finance");
        var token = Alice(gateway);

        // GETs open the dead destination's circuit (it is retried elsewhere, so the callers see nothing)...
        for (var i = 0; i < 6; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await Problem.SendAsync(client, HttpMethod.Get, $"/ledger/{i}", token)).Status);
        }

        // ...after which POSTs are never sent there: nothing was attempted, so going elsewhere is not a retry.
        for (var i = 0; i < 4; i++)
        {
            var answer = await Problem.SendAsync(client, HttpMethod.Post, $"/ledger/p{i}", token, r => r.Content = new StringContent("x"));
            Assert.True(answer.Status == HttpStatusCode.OK, $"POST {i}: {(int)answer.Status} {answer.Reason}");
        }

        Assert.Equal(4, live.Requests.Count(r => r.Method == "POST"));
        Assert.Matches(@"ztgw_upstream_failures_total\{[^}]*ztgw_upstream_error=""circuit-open""[^}]*\} [1-9]", gateway.Host.Telemetry.Metrics.Render());
    }

    [Fact]
    public async Task SilentUpstream_Is504UpstreamTimeout_AuditedOnce()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var slow = builder.Build();
        slow.Run(async context => await Task.Delay(TimeSpan.FromSeconds(10), context.RequestAborted));
        await slow.StartAsync();
        _disposables.Add(slow);
        var gateway = await StartAsync(slow.Urls.First(), new UpstreamResilienceOptions { Timeout = TimeSpan.FromSeconds(1) });
        using var client = gateway.Client("finance");

        var answer = await Problem.SendAsync(client, HttpMethod.Get, "/ledger/x", Alice(gateway));

        Assert.Equal(HttpStatusCode.GatewayTimeout, answer.Status);
        Assert.Equal("upstream-timeout", answer.Reason);
        var line = Assert.Single(await AuditLines.ReadWithoutPolicyChangesAsync(gateway.AuditFile));
        Assert.Equal("upstream-timeout", Reason(line));
    }

    private static string? Reason(string auditLine)
    {
        using var json = JsonDocument.Parse(auditLine);
        return json.RootElement.GetProperty("unmapped").GetProperty("ztgw").GetProperty("reason").GetString();
    }
}
