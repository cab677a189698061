using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using ZtGateway.IntegrationTests.Infrastructure;

namespace ZtGateway.IntegrationTests.Interop;

/// <summary>
/// A real gateway (issuer <c>type: oidc</c>) in front of an echo upstream, trusting a real oidc-provider
/// process, as an operator would run them.
/// </summary>
internal sealed class InteropRig : IAsyncDisposable
{
    // The gateway's test harness always writes a JWKS file; no issuer of this rig uses it.
    private readonly TestIdentity _unusedIdentity;

    private InteropRig(TestIdentity unusedIdentity, OidcProviderProcess provider, EchoUpstream ledger, TestGateway gateway)
    {
        _unusedIdentity = unusedIdentity;
        Provider = provider;
        Ledger = ledger;
        Gateway = gateway;
        Finance = gateway.Client("finance");
        Management = new HttpClient { BaseAddress = gateway.Host.ManagementAddress, Timeout = TimeSpan.FromSeconds(30) };
    }

    public OidcProviderProcess Provider { get; }

    public EchoUpstream Ledger { get; }

    public TestGateway Gateway { get; }

    public HttpClient Finance { get; }

    public HttpClient Management { get; }

    /// <summary>Starts the provider (unless <paramref name="providerUp"/> is false), the upstream and the gateway.</summary>
    public static async Task<InteropRig> StartAsync(bool providerUp = true)
    {
        var provider = await OidcProviderProcess.StartNewAsync();
        if (!providerUp)
        {
            await provider.StopAsync();
        }

        var ledger = await EchoUpstream.StartAsync("ledger");
        var identity = new TestIdentity();
        var rig = (InteropRig?)null;
        try
        {
            var gateway = await TestGateway.StartAsync(identity, InteropConfig.Finance(ledger.Url, OidcProviderProcess.WorkloadClient),
                InteropConfig.OidcGateway(provider.Issuer));
            rig = new InteropRig(identity, provider, ledger, gateway);
            return rig;
        }
        finally
        {
            if (rig is null)
            {
                identity.Dispose();
                await ledger.DisposeAsync();
                await provider.DisposeAsync();
            }
        }
    }

    public Task<Problem> GetLedgerAsync(string? token, string path = "/ledger/entries") => Problem.SendAsync(Finance, HttpMethod.Get, path, token);

    /// <summary>The <c>/readyz</c> answer: its status and the <c>keys:dev</c> check.</summary>
    public async Task<(HttpStatusCode Status, bool KeysReady, string KeysDetail)> ReadinessAsync()
    {
        using var response = await Management.GetAsync("/readyz");
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var keys = json.RootElement.GetProperty("checks").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "keys:dev");
        return (response.StatusCode, keys.GetProperty("ready").GetBoolean(), keys.GetProperty("detail").GetString()!);
    }

    /// <summary>
    /// A token claiming the provider as issuer, with perfect claims, signed by a key the provider never had and
    /// naming a <c>kid</c> nobody published: what an attacker flooding the gateway with random key ids sends.
    /// </summary>
    public string TokenWithUnknownKid(string subject = OidcProviderProcess.WorkloadClient)
    {
        using var rsa = RSA.Create(2048);
        var now = DateTimeOffset.UtcNow;
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Provider.Issuer,
            Audience = OidcProviderProcess.Audience,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = now.AddMinutes(10).UtcDateTime,
            Claims = new Dictionary<string, object> { ["sub"] = subject, ["client_id"] = subject },
            SigningCredentials = new SigningCredentials(new RsaSecurityKey(rsa.ExportParameters(true)) { KeyId = Guid.NewGuid().ToString() }, SecurityAlgorithms.RsaSha256),
        });
    }

    /// <summary>Reads the gateway assertion the upstream received with its last request.</summary>
    public JsonElement LastAssertion()
    {
        var request = Ledger.Requests.Last();
        return OidcProviderProcess.ClaimsOf(request.Headers["X-ZT-Assertion"]);
    }

    public async ValueTask DisposeAsync()
    {
        Finance.Dispose();
        Management.Dispose();
        await Gateway.DisposeAsync();
        await Ledger.DisposeAsync();
        await Provider.DisposeAsync();
        _unusedIdentity.Dispose();
    }
}
