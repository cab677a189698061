using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using ZtGateway.DevTools;
using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Engine;
using ZtGateway.Sources.Device;
using ZtGateway.Sources.Identity;
using ZtGateway.Tests.Identity;

namespace ZtGateway.Tests.Caching;

/// <summary>
/// The negative caches: a refused token or posture assertion is not verified again within
/// <see cref="CachingTokenValidator.RefusalLifetime"/>, the caches are emptied on a key change, bounded, and never
/// hold a refusal that says nothing about the credential.
/// </summary>
public sealed class RefusalCacheTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 28, 12, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task RefusedToken_IsNotVerifiedAgain_WithinTheWindow_ThenIs()
    {
        var inner = new CountingValidator(_ => Refused("signature invalid"));
        using var cache = new CachingTokenValidator(inner, _time);

        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(TokenStatus.Invalid, (await cache.ValidateAsync("Bearer forged", default)).Status);
        }

        var withinWindow = inner.Calls;
        _time.Advance(CachingTokenValidator.RefusalLifetime - TimeSpan.FromMilliseconds(1));
        await cache.ValidateAsync("Bearer forged", default);
        var atEdge = inner.Calls;
        _time.Advance(TimeSpan.FromMilliseconds(1));
        await cache.ValidateAsync("Bearer forged", default);

        Assert.Equal(1, withinWindow);
        Assert.Equal(1, atEdge);
        Assert.Equal(2, inner.Calls);
    }

    [Fact]
    public async Task ExpiredToken_IsRememberedAsRefused_Too()
    {
        var inner = new CountingValidator(_ => new TokenValidationOutcome(TokenStatus.Expired, null, "test", "token expired", null));
        using var cache = new CachingTokenValidator(inner, _time);

        await cache.ValidateAsync("Bearer old", default);
        var second = await cache.ValidateAsync("Bearer old", default);

        Assert.Equal(TokenStatus.Expired, second.Status);
        Assert.Equal(1, inner.Calls);
    }

    [Fact]
    public async Task DistinctTokens_AreVerifiedEach()
    {
        var inner = new CountingValidator(_ => Refused("signature invalid"));
        using var cache = new CachingTokenValidator(inner, _time);

        await cache.ValidateAsync("Bearer forged-1", default);
        await cache.ValidateAsync("Bearer forged-2", default);
        await cache.ValidateAsync("Bearer forged-1", default);

        Assert.Equal(2, inner.Calls);
    }

    [Fact]
    public async Task ValidToken_RefusedOnce_IsAcceptedOnceTheRefusalIsForgotten()
    {
        // A token refused while not yet valid: refused for at most the refusal lifetime, never longer.
        var verdicts = new Queue<TokenValidationOutcome>([Refused("token not yet valid"), Valid("alice")]);
        var inner = new CountingValidator(_ => verdicts.Dequeue());
        using var cache = new CachingTokenValidator(inner, _time);

        var first = await cache.ValidateAsync("Bearer early", default);
        _time.Advance(CachingTokenValidator.RefusalLifetime);
        var later = await cache.ValidateAsync("Bearer early", default);

        Assert.Equal(TokenStatus.Invalid, first.Status);
        Assert.Equal(TokenStatus.Valid, later.Status);
    }

    [Fact]
    public async Task TransientRefusal_IsNeverRemembered()
    {
        var inner = new CountingValidator(_ => new TokenValidationOutcome(TokenStatus.Invalid, null, "idp", "issuer unavailable", null, Transient: true));
        using var cache = new CachingTokenValidator(inner, _time);

        await cache.ValidateAsync("Bearer good-when-idp-is-up", default);
        await cache.ValidateAsync("Bearer good-when-idp-is-up", default);

        Assert.Equal(2, inner.Calls);
        Assert.Equal(0, cache.RefusedCount);
    }

    [Fact]
    public async Task RefusalOfACanceledRequest_IsNotRemembered()
    {
        var inner = new CountingValidator(_ => Refused("token refused"));
        using var cache = new CachingTokenValidator(inner, _time);
        using var canceled = new CancellationTokenSource();
        await canceled.CancelAsync();

        await cache.ValidateAsync("Bearer t", canceled.Token);
        await cache.ValidateAsync("Bearer t", default);

        Assert.Equal(2, inner.Calls);
    }

    [Fact]
    public async Task MissingToken_IsNeverRemembered()
    {
        var inner = new CountingValidator(_ => new TokenValidationOutcome(TokenStatus.Missing, null, null, "no bearer token", null));
        using var cache = new CachingTokenValidator(inner, _time);

        await cache.ValidateAsync(null, default);
        await cache.ValidateAsync("Basic dXNlcjpwYXNz", default);
        await cache.ValidateAsync("Basic dXNlcjpwYXNz", default);

        Assert.Equal(3, inner.Calls);
    }

    [Fact]
    public async Task SigningKeyChange_EmptiesTheRefusals()
    {
        var inner = new CountingValidator(_ => Refused("signing key not found"));
        using var cache = new CachingTokenValidator(inner, _time);
        await cache.ValidateAsync("Bearer new-kid", default);

        inner.RaiseSigningKeysChanged();
        await cache.ValidateAsync("Bearer new-kid", default);

        Assert.Equal(2, inner.Calls);
    }

    [Fact]
    public async Task RefusalReached_WhileTheKeysChanged_IsNotRemembered()
    {
        CountingValidator? inner = null;
        inner = new CountingValidator(_ =>
        {
            // The keys rotate while this token is being checked against the old ones.
            inner!.RaiseSigningKeysChanged();
            return Refused("signing key not found");
        });
        using var cache = new CachingTokenValidator(inner, _time);

        await cache.ValidateAsync("Bearer rotated", default);

        Assert.Equal(0, cache.RefusedCount);
    }

    [Fact]
    public async Task Refusals_AreBounded_AndNeverPushVerifiedTokensOut()
    {
        var inner = new CountingValidator(header => header == "Bearer good" ? Valid("alice") : Refused("signature invalid"));
        using var cache = new CachingTokenValidator(inner, _time, capacity: 10, refusedCapacity: 100);
        await cache.ValidateAsync("Bearer good", default);

        for (var i = 0; i < 2_000; i++)
        {
            await cache.ValidateAsync("Bearer forged-" + i, default);
            Assert.True(cache.RefusedCount <= 100, $"{cache.RefusedCount} refusals held");
        }

        var callsBefore = inner.Calls;
        Assert.Equal(TokenStatus.Valid, (await cache.ValidateAsync("Bearer good", default)).Status);
        Assert.Equal(callsBefore, inner.Calls);
    }

    [Fact]
    public async Task RefusedPosture_IsNotVerifiedAgain_WithinTheWindow()
    {
        using var posture = new PostureRig(_time);
        var forged = posture.Mint(posture.Forger, user: null);

        var first = await posture.Verifier.VerifyAsync(forged, null, default);
        var again = await posture.Verifier.VerifyAsync(forged, Alice, default);
        _time.Advance(CachingTokenValidator.RefusalLifetime);
        var afterWindow = await posture.Verifier.VerifyAsync(forged, null, default);

        Assert.Equal(DeviceStatus.Invalid, first.Status);
        Assert.StartsWith("device assertion failed validation", first.Detail, StringComparison.Ordinal);

        // The remembered verdict itself comes back; a fresh verification makes a new one.
        Assert.Same(first, again);
        Assert.NotSame(first, afterWindow);
        Assert.Equal(first, afterWindow);
    }

    [Fact]
    public async Task PostureBoundToAlice_RefusedForBob_IsStillAcceptedForAlice()
    {
        using var posture = new PostureRig(_time);
        var assertion = posture.Mint(posture.Issuer, user: "alice");

        var forBob = await posture.Verifier.VerifyAsync(assertion, Bob, default);
        var forNobody = await posture.Verifier.VerifyAsync(assertion, null, default);
        var forAlice = await posture.Verifier.VerifyAsync(assertion, Alice, default);
        var forBobAgain = await posture.Verifier.VerifyAsync(assertion, Bob, default);

        Assert.Equal((DeviceStatus.Invalid, "device assertion is bound to another user"), (forBob.Status, forBob.Detail));
        Assert.Equal(DeviceStatus.Invalid, forNobody.Status);
        Assert.Equal(DeviceStatus.Verified, forAlice.Status);
        Assert.Equal("laptop-1", forAlice.Device!.DeviceId);
        Assert.Equal(DeviceStatus.Invalid, forBobAgain.Status);
    }

    [Fact]
    public async Task PostureKeyChange_EmptiesTheRefusals()
    {
        using var posture = new PostureRig(_time);
        var forged = posture.Mint(posture.Forger, user: null);
        var first = await posture.Verifier.VerifyAsync(forged, null, default);

        posture.Verifier.Clear();
        var afterChange = await posture.Verifier.VerifyAsync(forged, null, default);

        Assert.NotSame(first, afterChange);
    }

    private static readonly Principal Alice = new() { Kind = PrincipalKind.User, Subject = "alice" };
    private static readonly Principal Bob = new() { Kind = PrincipalKind.User, Subject = "bob" };

    private static TokenValidationOutcome Refused(string detail) => new(TokenStatus.Invalid, null, "test", detail, null);

    private TokenValidationOutcome Valid(string subject) =>
        new(TokenStatus.Valid, new Principal { Kind = PrincipalKind.User, Subject = subject }, "test", "ok", _time.GetUtcNow() + TimeSpan.FromHours(1));

    /// <summary>A posture verifier trusting one real key from a JWKS file, and a forger holding another key.</summary>
    private sealed class PostureRig : IDisposable
    {
        private const string PostureIssuer = "https://posture.example";
        private readonly string _directory = Directory.CreateTempSubdirectory("ztgw-posture-").FullName;
        private readonly TestKey _key = TestKey.Ec();
        private readonly TestKey _other = TestKey.Ec();
        private readonly TimeProvider _time;

        public PostureRig(TimeProvider time)
        {
            _time = time;
            var jwks = Path.Join(_directory, "posture.jwks.json");
            File.WriteAllText(jwks, TestKey.JwksJson(_key));
            Verifier = new DevicePostureVerifier(new DeviceSettings
            {
                Audience = "ztgw",
                Issuers = [new KeySourceConfig { Issuer = PostureIssuer, JwksFile = jwks }],
            }, TimeSpan.FromSeconds(60), time, null, NullLogger.Instance);
        }

        public DevicePostureVerifier Verifier { get; }

        public Microsoft.IdentityModel.Tokens.SigningCredentials Issuer => _key.Credentials;

        // Names the real key's kid, signs with another: passes every cheap check, fails the signature.
        public Microsoft.IdentityModel.Tokens.SigningCredentials Forger => _other.CredentialsWithKid(_key.Kid);

        public string Mint(Microsoft.IdentityModel.Tokens.SigningCredentials credentials, string? user) => DevPostures.Mint(new DevPostureRequest
        {
            DeviceId = "laptop-1",
            Segment = "finance",
            Compliant = true,
            Managed = true,
            User = user,
            Issuer = PostureIssuer,
            Audience = "ztgw",
        }, credentials, _time);

        public void Dispose()
        {
            Verifier.Dispose();
            _key.Dispose();
            _other.Dispose();
            Directory.Delete(_directory, recursive: true);
        }
    }
}
