using System.Net;
using Microsoft.IdentityModel.Tokens;
using ZtGateway.IntegrationTests.Infrastructure;

namespace ZtGateway.IntegrationTests.Enforcement;

/// <summary>Every kind of bad token is refused at a real listener with 401 and the right reason; nothing is forwarded.</summary>
public sealed class TokenRefusalTests : IAsyncLifetime
{
    private readonly TestIdentity _identity = new();
    private EchoUpstream _ledger = null!;
    private TestGateway _gateway = null!;
    private HttpClient _finance = null!;

    public async Task InitializeAsync()
    {
        _ledger = await EchoUpstream.StartAsync("ledger");
        _gateway = await TestGateway.StartAsync(_identity, Topology.Standard(_ledger.Url, _ledger.Url, DateTimeOffset.UtcNow.AddDays(1)));
        _finance = _gateway.Client("finance");
    }

    public async Task DisposeAsync()
    {
        _finance.Dispose();
        await _gateway.DisposeAsync();
        await _ledger.DisposeAsync();
        _identity.Dispose();
    }

    public static TheoryData<string, string> BadTokens() => new()
    {
        { "malformed", "token-invalid" },
        { "three-garbage-parts", "token-invalid" },
        { "alg-none", "token-invalid" },
        { "hs256-with-public-key", "token-invalid" },
        { "wrong-issuer", "token-invalid" },
        { "wrong-audience", "token-invalid" },
        { "expired", "token-expired" },
        { "not-yet-valid", "token-invalid" },
        { "unknown-kid", "token-invalid" },
        { "known-kid-other-key", "token-invalid" },
    };

    [Theory]
    [MemberData(nameof(BadTokens))]
    public async Task Refuses(string kind, string reason)
    {
        var now = _gateway.Time.GetUtcNow();
        string[] groups = ["finance-staff"];
        var token = kind switch
        {
            "malformed" => "not-a-jwt",
            "three-garbage-parts" => "abc.def.ghi",
            "alg-none" => TestIdentity.Unsigned(now, "alice"),
            "hs256-with-public-key" => _identity.SymmetricWithPublicKey(now, "alice"),
            "wrong-issuer" => _identity.User(now, "alice", groups, issuer: "https://evil.test"),
            "wrong-audience" => _identity.User(now, "alice", groups, audience: "someone-else"),
            "expired" => _identity.User(now.AddHours(-3), "alice", groups, lifetime: TimeSpan.FromHours(1)),
            "not-yet-valid" => _identity.User(now, "alice", groups, notBefore: now.AddHours(2)),
            "unknown-kid" => _identity.User(now, "alice", groups, key: _identity.OtherKey),
            "known-kid-other-key" => _identity.User(now, "alice", groups, key: new RsaSecurityKey(_identity.OtherKey.Rsa) { KeyId = _identity.Key.KeyId }),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };

        var answer = await Problem.SendAsync(_finance, HttpMethod.Get, "/ledger/2026", token);

        Assert.Equal(HttpStatusCode.Unauthorized, answer.Status);
        Assert.Equal(reason, answer.Reason);
        Assert.Equal("Bearer realm=\"ztgw:finance\", error=\"invalid_token\"", answer.Challenge);
        Assert.DoesNotContain(token, answer.Body, StringComparison.Ordinal);
        Assert.Empty(_ledger.Requests);
    }

    [Fact]
    public async Task ValidToken_SameRequest_IsAllowed()
    {
        var answer = await Problem.SendAsync(_finance, HttpMethod.Get, "/ledger/2026", _identity.User(_gateway.Time.GetUtcNow(), "alice", ["finance-staff"]));

        Assert.Equal(HttpStatusCode.OK, answer.Status);
    }

    [Fact]
    public async Task TwoAuthorizationHeaders_AreRefused()
    {
        var token = _identity.User(_gateway.Time.GetUtcNow(), "alice", ["finance-staff"]);

        var (status, response) = await RawHttp.SendAsync(_gateway.Listener("finance"), "GET", "/ledger/2026",
            "Authorization: Bearer " + token, "Authorization: Bearer " + token);

        Assert.Equal(401, status);
        Assert.Contains("token-invalid", response, StringComparison.Ordinal);
        Assert.Empty(_ledger.Requests);
    }
}
