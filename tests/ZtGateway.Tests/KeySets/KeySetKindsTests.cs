using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using ZtGateway.DevTools;
using ZtGateway.KeySets;
using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Engine;
using ZtGateway.Sources.Device;
using ZtGateway.Sources.Identity;
using ZtGateway.Sources.Signals;
using ZtGateway.Tests.Identity;
using ZtGateway.Tests.Signals;
using ZtGateway.Upstream;
using ZtGateway.Upstream.Keys;
using ZtGateway.Upstream.Validation;

namespace ZtGateway.Tests.KeySets;

/// <summary>
/// Each kind of fetched key set, through its own verifier against a real listener, behaves as the shared cache does:
/// a token's unknown kid makes it fetch the set again at once, an answer that never ends is cut off at that kind's cap
/// (counted while reading) with the cache's log event, and the last good key still verifies.
/// </summary>
public sealed class KeySetKindsTests : IDisposable
{
    private const int DiscoveryCap = 1024 * 1024;
    private const int DefaultCap = 256 * 1024;

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 1, 9, 0, 0, TimeSpan.Zero));
    private readonly TestKey _key = TestKey.Ec();
    private readonly TestKey _rotated = TestKey.Ec();
    private readonly LoggedEvents _log = new();
    private readonly ILoggerFactory _loggers;

    public KeySetKindsTests()
    {
        _loggers = LoggerFactory.Create(builder => builder.SetMinimumLevel(LogLevel.Trace).AddProvider(_log));
    }

    public enum Kind
    {
        OidcIssuer,
        EntraIssuer,
        PostureIssuer,
        SignalTransmitter,
        UpstreamGatewayKeys,
    }

    public void Dispose()
    {
        _loggers.Dispose();
        _key.Dispose();
        _rotated.Dispose();
    }

    [Theory(Timeout = 60_000)]
    [InlineData(Kind.OidcIssuer, DiscoveryCap)]
    [InlineData(Kind.EntraIssuer, DiscoveryCap)]
    [InlineData(Kind.PostureIssuer, DefaultCap)]
    [InlineData(Kind.SignalTransmitter, DefaultCap)]
    [InlineData(Kind.UpstreamGatewayKeys, DefaultCap)]
    public async Task EachKind_FetchesItsKeySetThroughTheSharedCache(Kind kind, int cap)
    {
        await using var server = await KeySetServer.StartNewAsync(_key);
        using var verifier = Create(kind, server);

        var first = await verifier.VerifyAsync(_key);
        var fetchesAfterFirst = server.JwksRequests;
        server.PublishEndless();
        var unknownKid = await verifier.VerifyAsync(_rotated);
        var hadContentLength = await server.EndlessStarted;
        var lastGood = await verifier.VerifyAsync(_key);

        Assert.True(first, "a token of the published key verifies");
        Assert.Equal(1, fetchesAfterFirst);
        Assert.False(unknownKid, "a token of a key the listener never published verifies");
        Assert.Equal(2, server.JwksRequests);
        Assert.False(hadContentLength);
        var failure = Assert.Single(_log.With(KeySetEventIds.FetchFailed));
        Assert.Contains($"the answer is larger than {cap} bytes", failure, StringComparison.Ordinal);
        Assert.True(lastGood, "the last good key set stays in use");
        Assert.Equal(2, server.JwksRequests);
    }

    private IKindVerifier Create(Kind kind, KeySetServer server) => kind switch
    {
        Kind.OidcIssuer => new IssuerVerifier(this, new IssuerConfig
        {
            Name = "dev", Type = IssuerType.Oidc, Authority = server.BaseUrl, Audiences = ["ztgw"], RequireHttpsMetadata = false,
        }, server.BaseUrl, "ztgw", tenantId: null),
        Kind.EntraIssuer => new IssuerVerifier(this, new IssuerConfig
        {
            Name = "corp", Type = IssuerType.Entra, Instance = server.BaseUrl + "/", TenantId = EntraTenant, Audiences = ["api://ztgw"],
            RequireHttpsMetadata = false,
        }, server.BaseUrl + "/" + EntraTenant + "/v2.0", "api://ztgw", EntraTenant),
        Kind.PostureIssuer => new PostureVerifier(this, server),
        Kind.SignalTransmitter => new TransmitterVerifier(this, server),
        _ => new UpstreamVerifier(this, server),
    };

    private const string EntraTenant = "11111111-2222-3333-4444-555555555555";

    /// <summary>One kind's real verifier: true when it accepts a fresh credential signed by the key.</summary>
    private interface IKindVerifier : IDisposable
    {
        Task<bool> VerifyAsync(TestKey key);
    }

    private sealed class IssuerVerifier(KeySetKindsTests test, IssuerConfig issuer, string iss, string audience, string? tenantId) : IKindVerifier
    {
        private readonly TokenValidator _validator = new(new IdentitySettings { Issuers = [issuer] }, test._time, backchannel: null, test._loggers.CreateLogger("ZtGateway.Identity"));
        private int _minted;

        public async Task<bool> VerifyAsync(TestKey key)
        {
            var claims = TestTokens.Claims(iss, audience, test._time.GetUtcNow(), "user-" + Interlocked.Increment(ref _minted));
            if (tenantId is not null)
            {
                claims["tid"] = tenantId;
            }

            var outcome = await _validator.ValidateAsync(TestTokens.Bearer(TestTokens.Sign(claims, key.Credentials)), CancellationToken.None);
            return outcome.Status == TokenStatus.Valid;
        }

        public void Dispose() => _validator.Dispose();
    }

    private sealed class PostureVerifier(KeySetKindsTests test, KeySetServer server) : IKindVerifier
    {
        private const string Issuer = "https://mdm.test";

        private readonly DevicePostureVerifier _verifier = new(
            new DeviceSettings { Issuers = [new KeySourceConfig { Issuer = Issuer, JwksUri = server.JwksUri.ToString() }] },
            TimeSpan.FromSeconds(60), test._time, backchannel: null, test._loggers.CreateLogger("ZtGateway.Device"));
        private int _minted;

        public async Task<bool> VerifyAsync(TestKey key)
        {
            var assertion = DevPostures.Mint(new DevPostureRequest
            {
                DeviceId = "laptop-" + Interlocked.Increment(ref _minted), Segment = "finance", Compliant = true, Managed = true,
                Issuer = Issuer, Audience = "ztgw",
            }, key.Credentials, test._time);
            var outcome = await _verifier.VerifyAsync(assertion, principal: null, CancellationToken.None);
            return outcome.Status == DeviceStatus.Verified;
        }

        public void Dispose() => _verifier.Dispose();
    }

    private sealed class TransmitterVerifier(KeySetKindsTests test, KeySetServer server) : IKindVerifier
    {
        private readonly SetMinter _minter = new();
        private readonly SecurityEventTokenVerifier _verifier = new(
            new SignalsSettings { Transmitters = [new KeySourceConfig { Issuer = SetMinter.Issuer, Audience = SetMinter.Audience, JwksUri = server.JwksUri.ToString() }] },
            TimeSpan.FromSeconds(60), test._time, backchannel: null, test._loggers.CreateLogger("ZtGateway.Signals"));
        private int _minted;

        public async Task<bool> VerifyAsync(TestKey key)
        {
            var set = _minter.Mint(test._time.GetUtcNow(), key: key.Key, jti: "jti-" + Interlocked.Increment(ref _minted));
            return (await _verifier.VerifyAsync(set, CancellationToken.None)).Succeeded;
        }

        public void Dispose()
        {
            _verifier.Dispose();
            _minter.Dispose();
        }
    }

    private sealed class UpstreamVerifier : IKindVerifier
    {
        private const string Issuer = "https://ztgw.test";
        private const string Service = "payroll";

        private readonly KeySetKindsTests _test;
        private readonly JwksGatewayKeySource _keys;
        private readonly AssertionValidator _validator;

        public UpstreamVerifier(KeySetKindsTests test, KeySetServer server)
        {
            _test = test;
            var options = new ZtGatewayAssertionOptions { Issuer = Issuer, Audience = Service, JwksUri = server.JwksUri, TimeProvider = test._time };
            _keys = new JwksGatewayKeySource(options, test._loggers.CreateLogger<JwksGatewayKeySource>());
            _validator = new AssertionValidator(Options.Create(options), _keys);
        }

        public async Task<bool> VerifyAsync(TestKey key)
        {
            var claims = TestTokens.Claims(Issuer, Service, _test._time.GetUtcNow(), "alice", TimeSpan.FromSeconds(60));
            claims["jti"] = Guid.NewGuid().ToString("N");
            return (await _validator.ValidateAsync(TestTokens.Sign(claims, key.Credentials), CancellationToken.None)).Succeeded;
        }

        public void Dispose() => _keys.Dispose();
    }
}
