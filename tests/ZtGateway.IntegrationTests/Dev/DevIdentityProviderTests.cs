using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using ZtGateway.DevTools;
using ZtGateway.IntegrationTests.Infrastructure;

namespace ZtGateway.IntegrationTests.Dev;

/// <summary>The development OpenID Provider, used by a real gateway through its <c>type: oidc</c> issuer.</summary>
public sealed class DevIdentityProviderTests : IAsyncLifetime
{
    private readonly TestIdentity _unused = new();
    private readonly string _keyDirectory = Path.Combine(Path.GetTempPath(), "ztgw-devidp-" + Guid.NewGuid().ToString("N")[..8]);
    private DevIdentityProvider _idp = null!;
    private EchoUpstream _ledger = null!;
    private TestGateway _gateway = null!;

    public async Task InitializeAsync()
    {
        _idp = await DevIdentityProvider.StartAsync(new DevIdentityProviderOptions
        {
            Listen = "http://127.0.0.1:0",
            KeyFile = Path.Combine(_keyDirectory, "dev-idp.key.pem"),
        }, NullLoggerFactory.Instance, CancellationToken.None);
        _ledger = await EchoUpstream.StartAsync("ledger");
        var gatewayYaml = $$"""
            gateway:
              policyDir: segments
              management: { listen: "" }
            identity:
              issuers:
                - name: dev
                  type: oidc
                  authority: {{_idp.Authority}}
                  audiences: [ztgw]
                  requireHttpsMetadata: false
            """;
        var segments = new Dictionary<string, string>
        {
            ["finance"] = $$"""
                segment: finance
                listen: http://127.0.0.1:0
                members:
                  workloads: [spiffe://corp.example/finance/ledger-sync]
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
                      - { name: sync, from: [finance], workloads: [spiffe://corp.example/finance/ledger-sync] }
                """,
        };
        _gateway = await TestGateway.StartAsync(_unused, segments, gatewayYaml);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _ledger.DisposeAsync();
        await _idp.DisposeAsync();
        _unused.Dispose();
        Directory.Delete(_keyDirectory, recursive: true);
    }

    private async Task<(HttpStatusCode Status, string? Token)> TokenAsync(params (string Key, string Value)[] form)
    {
        using var client = new HttpClient();
        using var response = await client.PostAsync(_idp.Authority + "/token", new FormUrlEncodedContent(form.Select(f => KeyValuePair.Create(f.Key, f.Value))));
        if (!response.IsSuccessStatusCode)
        {
            return (response.StatusCode, null);
        }

        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (response.StatusCode, json.RootElement.GetProperty("access_token").GetString());
    }

    [Fact]
    public async Task UserWithMfa_IsAllowed_WithoutMfa_MustStepUp()
    {
        using var finance = _gateway.Client("finance");
        var (_, withMfa) = await TokenAsync(("grant_type", "password"), ("username", "alice"), ("password", "dev"), ("mfa", "true"));
        var (_, withoutMfa) = await TokenAsync(("grant_type", "password"), ("username", "alice"), ("password", "dev"));

        Assert.Equal(HttpStatusCode.OK, (await Problem.SendAsync(finance, HttpMethod.Get, "/ledger/1", withMfa)).Status);
        Assert.Equal("mfa-required", (await Problem.SendAsync(finance, HttpMethod.Get, "/ledger/1", withoutMfa)).Reason);
    }

    [Fact]
    public async Task BrowserSignIn_AccessToken_IsAllowedWithMfa_WithoutMfaMustStepUp()
    {
        using var finance = _gateway.Client("finance");
        using var browser = new DevSignInClient(_idp.Authority);
        var withMfa = await browser.SignInAsync("alice", mfa: true);
        using var other = new DevSignInClient(_idp.Authority);
        var withoutMfa = await other.SignInAsync("alice", mfa: false);

        Assert.Equal(HttpStatusCode.OK, (await Problem.SendAsync(finance, HttpMethod.Get, "/ledger/1", withMfa.AccessToken)).Status);
        Assert.Equal("mfa-required", (await Problem.SendAsync(finance, HttpMethod.Get, "/ledger/1", withoutMfa.AccessToken)).Reason);
    }

    [Fact]
    public async Task ClientCredentials_GiveAWorkloadToken()
    {
        using var finance = _gateway.Client("finance");
        var (status, token) = await TokenAsync(("grant_type", "client_credentials"), ("client_id", "ledger-sync"), ("client_secret", "dev-secret"));

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(HttpStatusCode.OK, (await Problem.SendAsync(finance, HttpMethod.Get, "/ledger/1", token)).Status);
    }

    [Fact]
    public async Task WrongSecretOrPassword_GetsNoToken()
    {
        Assert.Equal(HttpStatusCode.Unauthorized, (await TokenAsync(("grant_type", "client_credentials"), ("client_id", "ledger-sync"), ("client_secret", "guess"))).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await TokenAsync(("grant_type", "password"), ("username", "alice"), ("password", "guess"))).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await TokenAsync(("grant_type", "authorization_code"))).Status);
    }

    [Fact]
    public async Task RefusesANonLoopbackAddress_UnlessForced()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => DevIdentityProvider.StartAsync(new DevIdentityProviderOptions
        {
            Listen = "http://0.0.0.0:0",
            KeyFile = Path.Combine(_keyDirectory, "other.key.pem"),
        }, NullLoggerFactory.Instance, CancellationToken.None));

        Assert.Contains("loopback", error.Message, StringComparison.Ordinal);
    }
}
