using System.Net;
using System.Text.Json;
using ZtGateway.Enforcement.Model;
using ZtGateway.IntegrationTests.Infrastructure;
using ZtGateway.Sources.Identity;

namespace ZtGateway.IntegrationTests.Enforcement;

/// <summary>
/// The enforcement stage's last resort: an unexpected exception anywhere in the decision is answered 503
/// <c>internal-error</c> as problem+json, audited with its decision id, and nothing is forwarded. The fault is
/// injected into the live state of a real listener.
/// </summary>
public sealed class LastResortTests : IAsyncLifetime
{
    private readonly TestIdentity _identity = new();
    private EchoUpstream _ledger = null!;
    private TestGateway _gateway = null!;

    public async Task InitializeAsync()
    {
        _ledger = await EchoUpstream.StartAsync("ledger");
        _gateway = await TestGateway.StartAsync(_identity, new Dictionary<string, string>
        {
            ["finance"] = $$"""
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
                      - { name: staff, from: [finance], users: { groups: [finance-staff] } }
                """,
        });
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _ledger.DisposeAsync();
        _identity.Dispose();
    }

    [Fact]
    public async Task UnexpectedException_Answers503InternalError_IsAudited_AndNothingIsForwarded()
    {
        using var client = _gateway.Client("finance");
        var token = _identity.User(_gateway.Time.GetUtcNow(), "alice", ["finance-staff"]);
        Assert.Equal(HttpStatusCode.OK, (await Problem.SendAsync(client, HttpMethod.Get, "/ledger/1", token)).Status);
        Assert.Single(_ledger.Requests);

        var live = _gateway.Host.State.Current;
        _gateway.Host.State.Swap(new GatewayState(live.Engine, new FailingTokens(), live.Posture, live.Assertions, live.Audit, live.Refusals));

        var answer = await Problem.SendAsync(client, HttpMethod.Get, "/ledger/2", token);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, answer.Status);
        Assert.Equal("internal-error", answer.Reason);
        Assert.Single(_ledger.Requests);
        var line = Assert.Single(File.ReadAllLines(_gateway.AuditFile), l => l.Contains(answer.DecisionId!, StringComparison.Ordinal));
        using var audit = JsonDocument.Parse(line);
        Assert.Equal("internal-error", audit.RootElement.GetProperty("unmapped").GetProperty("ztgw").GetProperty("reason").GetString());
        Assert.Equal(503, audit.RootElement.GetProperty("http_response").GetProperty("code").GetInt32());
        Assert.Equal(2, audit.RootElement.GetProperty("action_id").GetInt32());

        // The listener keeps serving once the fault is gone.
        _gateway.Host.State.Swap(live);
        Assert.Equal(HttpStatusCode.OK, (await Problem.SendAsync(client, HttpMethod.Get, "/ledger/3", token)).Status);
    }

    private sealed class FailingTokens : ITokenValidator
    {
        public event Action? SigningKeysChanged
        {
            add { }
            remove { }
        }

        public ValueTask<TokenValidationOutcome> ValidateAsync(string? authorizationHeader, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("injected fault");

        public IReadOnlyList<IssuerReadiness> GetReadiness() => [];
    }
}
