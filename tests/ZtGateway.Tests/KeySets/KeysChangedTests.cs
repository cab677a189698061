using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Engine;
using ZtGateway.Sources.Identity;
using ZtGateway.Sources.Keys;
using ZtGateway.Tests.Identity;

namespace ZtGateway.Tests.KeySets;

/// <summary>What the owners of a key set cache tell their caches of verdicts when the keys change.</summary>
public sealed class KeysChangedTests : IClassFixture<SharedKeys>
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 1, 9, 0, 0, TimeSpan.Zero));
    private readonly TestKey _key;
    private readonly TestKey _rotated;

    public KeysChangedTests(SharedKeys keys)
    {
        _key = keys.Primary;
        _rotated = keys.Other;
    }

    [Fact]
    public async Task DiscoveryIssuer_SigningKeysChanged_ForARotation_NotForTheFirstSet()
    {
        await using var server = await KeySetServer.StartNewAsync(_key);
        using var validator = new TokenValidator(Settings(server), _time);
        var changes = 0;
        validator.SigningKeysChanged += () => changes++;

        var first = await ValidateAsync(validator, server, _key);
        var changesAfterFirst = changes;
        server.Publish(_key, _rotated);
        var rotated = await ValidateAsync(validator, server, _rotated);

        Assert.Equal((TokenStatus.Valid, 0), (first, changesAfterFirst));
        Assert.Equal((TokenStatus.Valid, 1), (rotated, changes));
    }

    [Fact]
    public async Task DiscoveryIssuer_AfterTakingOverTheKeys_ARotationIsAChange()
    {
        await using var server = await KeySetServer.StartNewAsync(_key);
        using var before = new TokenValidator(Settings(server), _time);
        Assert.Equal(TokenStatus.Valid, await ValidateAsync(before, server, _key));
        server.Publish(_rotated);
        using var next = TokenValidator.Start(Settings(server), _time, previous: before);
        var changes = 0;
        next.SigningKeysChanged += () => changes++;

        var adopted = await ValidateAsync(next, server, _key);
        var changesAfterAdoption = changes;
        var rotated = await ValidateAsync(next, server, _rotated);

        Assert.Equal((TokenStatus.Valid, 0), (adopted, changesAfterAdoption));
        Assert.Equal((TokenStatus.Valid, 1), (rotated, changes));
    }

    [Fact]
    public async Task JwksUriSource_KeysChanged_ForTheFirstSetAndARotation_NotForTheSameSet()
    {
        await using var server = await KeySetServer.StartNewAsync(_key);
        using var source = JwksKeySource.FromUri("device issuer test", server.JwksUri, backchannel: null, _time, NullLogger.Instance);
        var changes = 0;
        source.KeysChanged += () => changes++;

        await source.GetKeysAsync(_key.Kid, CancellationToken.None);
        var changesAfterFirst = changes;
        _time.Advance(JwksKeySource.RefreshInterval);
        await source.GetKeysAsync(_key.Kid, CancellationToken.None);
        var changesAfterTheSameSet = changes;
        server.Publish(_rotated);
        var rotated = await source.GetKeysAsync(_rotated.Kid, CancellationToken.None);

        Assert.Equal(1, changesAfterFirst);
        Assert.Equal(1, changesAfterTheSameSet);
        Assert.Equal(2, changes);
        Assert.Equal(_rotated.Kid, Assert.Single(rotated).KeyId);
        Assert.Equal(3, server.JwksRequests);
    }

    private static IdentitySettings Settings(KeySetServer server) => new()
    {
        Issuers = [new IssuerConfig { Name = "dev", Type = IssuerType.Oidc, Authority = server.BaseUrl, Audiences = ["ztgw"], RequireHttpsMetadata = false }],
    };

    private async Task<TokenStatus> ValidateAsync(TokenValidator validator, KeySetServer server, TestKey key)
    {
        var token = TestTokens.Sign(TestTokens.Claims(server.BaseUrl, "ztgw", _time.GetUtcNow()), key.Credentials);
        return (await validator.ValidateAsync(TestTokens.Bearer(token), CancellationToken.None)).Status;
    }
}
