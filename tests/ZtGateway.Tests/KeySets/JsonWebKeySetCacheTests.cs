using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.Tokens;
using ZtGateway.KeySets;
using ZtGateway.Tests.Identity;

namespace ZtGateway.Tests.KeySets;

/// <summary>
/// The key set cache against a real listener on 127.0.0.1 (fetches counted by the listener), with a fake clock:
/// refresh, the unknown-kid throttle, the last good set, the size cap, refused sets, resilience on the injected clock.
/// </summary>
public sealed class JsonWebKeySetCacheTests : IClassFixture<SharedKeys>, IAsyncLifetime, IDisposable
{
    private static readonly JsonWebKeySetCacheOptions Defaults = new();

    // For tests that move the clock on while a fetch runs: budgets no busy machine reaches, so that only the wait under test counts.
    private static readonly JsonWebKeySetCacheOptions Pumped = Defaults with { FetchTimeout = TimeSpan.FromHours(1), AttemptTimeout = TimeSpan.FromMinutes(30) };

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 1, 9, 0, 0, TimeSpan.Zero));
    private readonly HttpClient _http = new();
    private readonly LoggedEvents _log = new();
    private readonly TestKey _key;
    private readonly TestKey _otherKey;
    private readonly TestKey _thirdKey = TestKey.Ec();
    private KeySetServer _server = null!;

    public JsonWebKeySetCacheTests(SharedKeys keys)
    {
        _key = keys.Primary;
        _otherKey = keys.Other;
    }

    public async Task InitializeAsync() => _server = await KeySetServer.StartNewAsync(_key);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    public void Dispose()
    {
        _http.Dispose();
        _thirdKey.Dispose();
    }

    [Fact]
    public async Task FirstUse_FetchesOnce_ThenTheSetIsFetchedAgainOnlyAfterTheRefreshInterval()
    {
        using var cache = Cache();
        var changes = 0;
        cache.KeysChanged += () => changes++;

        var first = await cache.GetKeysAsync(CancellationToken.None);
        var second = await cache.GetKeysAsync(_key.Kid, CancellationToken.None);
        _time.Advance(Defaults.RefreshInterval - TimeSpan.FromSeconds(1));
        var beforeDue = await cache.GetKeysAsync(CancellationToken.None);
        var fetchesBeforeDue = _server.JwksRequests;
        _time.Advance(TimeSpan.FromSeconds(1));
        var sameSet = await cache.GetKeysAsync(CancellationToken.None);
        var changesForTheSameSet = changes;
        _server.Publish(_otherKey);
        _time.Advance(Defaults.RefreshInterval);
        var rotated = await cache.GetKeysAsync(CancellationToken.None);

        Assert.Equal([_key.Kid], KeyIds(first));
        Assert.Equal([_key.Kid], KeyIds(second));
        Assert.Equal([_key.Kid], KeyIds(beforeDue));
        Assert.Equal(1, fetchesBeforeDue);
        Assert.Equal([_key.Kid], KeyIds(sameSet));
        Assert.Equal(1, changesForTheSameSet);
        Assert.Equal([_otherKey.Kid], KeyIds(rotated));
        Assert.Equal(3, _server.JwksRequests);
        Assert.Equal(2, changes);
    }

    [Fact]
    public async Task RefreshInBackground_ServesTheHeldSetAtOnce_AndTheNewOneWhenItArrives()
    {
        using var cache = Cache(Defaults with { RefreshInBackground = true });
        await cache.GetKeysAsync(CancellationToken.None);
        _server.Publish(_otherKey);
        _server.Hold();
        _time.Advance(Defaults.RefreshInterval);

        var whileFetching = cache.GetKeysAsync(CancellationToken.None);
        var completedAtOnce = whileFetching.IsCompleted;
        await EventuallyAsync(() => _server.JwksRequests == 2);
        _server.Release();
        await EventuallyAsync(() => cache.Current?.Contains(_otherKey.Kid) == true);

        Assert.True(completedAtOnce);
        Assert.Equal([_key.Kid], KeyIds(await whileFetching));
        Assert.Equal([_otherKey.Kid], KeyIds(await cache.GetKeysAsync(CancellationToken.None)));
        Assert.Equal(2, _server.JwksRequests);
    }

    [Fact]
    public async Task UnknownKid_ConcurrentLookupsShareOneFetch_ASecondOneWithinTheIntervalFetchesNothing_ThenOne()
    {
        using var cache = Cache();
        await cache.GetKeysAsync(CancellationToken.None);
        _server.Publish(_key, _otherKey);
        _server.Hold();

        var lookups = Enumerable.Range(0, 20).Select(_ => cache.GetKeysAsync(_otherKey.Kid, CancellationToken.None).AsTask()).ToArray();
        await EventuallyAsync(() => _server.JwksRequests == 2);
        await Task.Delay(200);
        var waitingForTheFetch = lookups.Count(lookup => !lookup.IsCompleted);
        _server.Release();
        var results = await Task.WhenAll(lookups);
        var afterConcurrentLookups = _server.JwksRequests;

        _server.Publish(_key, _otherKey, _thirdKey);
        var withinInterval = await cache.GetKeysAsync(_thirdKey.Kid, CancellationToken.None);
        _time.Advance(Defaults.UnknownKeyIdRefreshInterval - TimeSpan.FromSeconds(1));
        var justBefore = await cache.GetKeysAsync(_thirdKey.Kid, CancellationToken.None);
        var fetchesWithinInterval = _server.JwksRequests;
        _time.Advance(TimeSpan.FromSeconds(1));
        var afterInterval = await cache.GetKeysAsync(_thirdKey.Kid, CancellationToken.None);

        Assert.Equal(lookups.Length, waitingForTheFetch);
        Assert.All(results, keys => Assert.Contains(_otherKey.Kid, KeyIds(keys)));
        Assert.Equal(2, afterConcurrentLookups);
        Assert.DoesNotContain(_thirdKey.Kid, KeyIds(withinInterval));
        Assert.DoesNotContain(_thirdKey.Kid, KeyIds(justBefore));
        Assert.Equal(2, fetchesWithinInterval);
        Assert.Contains(_thirdKey.Kid, KeyIds(afterInterval));
        Assert.Equal(3, _server.JwksRequests);
        Assert.Single(_log.With(KeySetEventIds.RefreshingForUnknownKeyId), m => m.Contains(_otherKey.Kid, StringComparison.Ordinal));
    }

    [Fact]
    public async Task KnownKid_FetchesNothing()
    {
        using var cache = Cache();
        await cache.GetKeysAsync(CancellationToken.None);

        var refreshed = await cache.RefreshForUnknownKeyIdAsync(_key.Kid, CancellationToken.None);
        await cache.GetKeysAsync(_key.Kid, CancellationToken.None);

        Assert.False(refreshed);
        Assert.Equal(1, _server.JwksRequests);
    }

    [Fact(Timeout = 60_000)]
    public async Task AnswerThatNeverEnds_IsCutOffAtTheCapWhileReading_AndTheLastGoodSetKept()
    {
        using var cache = Cache(Defaults with { MaxResponseBytes = 64 * 1024 });
        await cache.GetKeysAsync(CancellationToken.None);
        _server.PublishEndless();

        // The body has no length and no end (and the clock stands still, so no timeout ends the attempt):
        // only a cache that counts the bytes as they arrive can come back from this fetch.
        var refreshed = await cache.RefreshForUnknownKeyIdAsync(_otherKey.Kid, CancellationToken.None);
        var hadContentLength = await _server.EndlessStarted;

        Assert.False(refreshed);
        Assert.False(hadContentLength);
        Assert.Equal([_key.Kid], KeyIds(cache.Keys));
        Assert.Equal("the answer is larger than 65536 bytes", cache.LastFailure);
        Assert.Equal(2, _server.JwksRequests);
        Assert.Single(_log.With(KeySetEventIds.FetchFailed), m => m.Contains("larger than 65536 bytes", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task OversizedSet_IsRefused_WithOrWithoutContentLength(bool chunked)
    {
        using var cache = Cache(Defaults with { MaxResponseBytes = 4 * 1024 });
        await cache.GetKeysAsync(CancellationToken.None);
        var padded = TestKey.JwksJson(_key, _otherKey).Replace("{\"keys\"", new string(' ', 8 * 1024) + "{\"keys\"", StringComparison.Ordinal);
        if (chunked)
        {
            _server.PublishChunked(padded);
        }
        else
        {
            _server.PublishRaw(padded);
        }

        _time.Advance(Defaults.RefreshInterval);
        var keys = await cache.GetKeysAsync(_otherKey.Kid, CancellationToken.None);

        Assert.Equal(chunked, _server.LastContentLength is null);
        Assert.Equal([_key.Kid], KeyIds(keys));
        Assert.Equal("the answer is larger than 4096 bytes", cache.LastFailure);
        Assert.Equal(2, _server.JwksRequests);
    }

    [Fact(Timeout = 60_000)]
    public async Task Outage_KeepsTheKeys_ThenTheRotatedSetOfTheListenerBackIsUsed()
    {
        using var cache = Cache(Pumped);
        await cache.GetKeysAsync(CancellationToken.None);

        _server.Fail(500);
        _time.Advance(Defaults.RefreshInterval);
        var whileFailing = await cache.GetKeysAsync(CancellationToken.None);
        var failure = cache.LastFailure;
        var fetchesWhileFailing = _server.JwksRequests;

        await _server.StopAsync();
        _time.Advance(Defaults.RetryAfterFailure);
        var whileStopped = await PumpAsync(cache.GetKeysAsync(CancellationToken.None).AsTask());
        var stoppedFailure = cache.LastFailure;

        _server.Publish(_otherKey);
        await _server.StartAsync();
        _time.Advance(Defaults.MaxRetryAfterFailure);
        var back = await cache.GetKeysAsync(CancellationToken.None);

        Assert.Equal([_key.Kid], KeyIds(whileFailing));
        Assert.Equal("HTTP 500", failure);
        Assert.Equal(2, fetchesWhileFailing); // a 500 is not retried within the fetch
        Assert.Equal([_key.Kid], KeyIds(whileStopped));
        Assert.StartsWith("SocketException: ", stoppedFailure, StringComparison.Ordinal);
        Assert.Equal([_otherKey.Kid], KeyIds(back));
        Assert.Null(cache.LastFailure);
        Assert.Equal(3, _server.JwksRequests);
        Assert.Equal(2, _log.With(KeySetEventIds.FetchFailed).Count);
    }

    [Theory]
    [InlineData("<html>maintenance</html>", "not a JSON Web Key Set")]
    [InlineData("{\"keys\":", "not a JSON Web Key Set")]
    [InlineData("{\"keys\":[]}", "no usable signing key in the set")]
    [InlineData("{\"keys\":[{\"kty\":\"oct\",\"kid\":\"sym\",\"k\":\"c2VjcmV0\"}]}", "no usable signing key in the set")]
    public async Task UnusableAnswer_IsRefused_AndTheLastGoodSetKept(string body, string reason)
    {
        using var cache = Cache();
        await cache.GetKeysAsync(CancellationToken.None);
        _server.PublishRaw(body);

        _time.Advance(Defaults.RefreshInterval);
        var keys = await cache.GetKeysAsync(CancellationToken.None);

        Assert.Equal([_key.Kid], KeyIds(keys));
        Assert.Equal(reason, cache.LastFailure);
        Assert.Equal(2, _server.JwksRequests);
    }

    [Fact]
    public async Task EncryptionOnlyKey_IsNoSigningKey()
    {
        var jwk = new Dictionary<string, string>(_otherKey.PublicJwk) { ["use"] = "enc" };
        _server.PublishRaw(System.Text.Json.JsonSerializer.Serialize(new { keys = new[] { jwk } }));
        using var cache = Cache();

        var keys = await cache.GetKeysAsync(CancellationToken.None);

        Assert.Empty(keys);
        Assert.Equal("no usable signing key in the set", cache.LastFailure);
    }

    [Fact]
    public async Task BeforeAnyGoodFetch_ThereAreNoKeys_AndTheFailurePauseDoubles()
    {
        _server.Fail(503);
        using var cache = Cache();

        var first = await cache.GetKeysAsync(_key.Kid, CancellationToken.None);
        var heldAfterFirst = cache.Current;
        var withinPause = await cache.GetKeysAsync(_key.Kid, CancellationToken.None);
        var fetchesAfterFirst = _server.JwksRequests;
        _time.Advance(Defaults.RetryAfterFailure);
        await cache.GetKeysAsync(CancellationToken.None);
        var fetchesAfterPause = _server.JwksRequests;
        _time.Advance(Defaults.RetryAfterFailure);
        await cache.GetKeysAsync(CancellationToken.None);
        var fetchesWithinDoubledPause = _server.JwksRequests;
        _server.Publish(_key);
        _time.Advance(Defaults.RetryAfterFailure);
        var recovered = await cache.GetKeysAsync(CancellationToken.None);

        Assert.Empty(first);
        Assert.Empty(withinPause);
        Assert.Null(heldAfterFirst);
        Assert.Equal(1, fetchesAfterFirst);
        Assert.Equal(2, fetchesAfterPause);
        Assert.Equal(2, fetchesWithinDoubledPause);
        Assert.Equal([_key.Kid], KeyIds(recovered));
        Assert.Equal(3, _server.JwksRequests);
    }

    [Fact(Timeout = 60_000)]
    public async Task TransportFailures_AreRetriedWithBackoff_OnTheInjectedClock()
    {
        _server.Abort(2);
        using var cache = Cache(Pumped);

        var fetch = cache.GetKeysAsync(CancellationToken.None).AsTask();
        await EventuallyAsync(() => _server.JwksRequests == 1);
        await Task.Delay(300);
        var requestsWithoutTheClock = _server.JwksRequests;
        var keys = await PumpAsync(fetch);

        Assert.Equal(1, requestsWithoutTheClock);
        Assert.Equal([_key.Kid], KeyIds(keys));
        Assert.Equal(1 + Defaults.MaxRetryAttempts, _server.JwksRequests);
    }

    [Fact(Timeout = 60_000)]
    public async Task AHangingAttempt_TimesOutOnTheInjectedClock_AndIsRetried()
    {
        _server.Hang();
        using var cache = Cache(Pumped with { AttemptTimeout = Defaults.AttemptTimeout });

        var fetch = cache.GetKeysAsync(CancellationToken.None).AsTask();
        await EventuallyAsync(() => _server.JwksRequests == 1);
        await Task.Delay(300);
        var doneWithoutTheClock = fetch.IsCompleted;
        _server.Publish(_key);
        _time.Advance(Defaults.AttemptTimeout);
        var keys = await PumpAsync(fetch);

        Assert.False(doneWithoutTheClock);
        Assert.Equal([_key.Kid], KeyIds(keys));
        Assert.Equal(2, _server.JwksRequests);
    }

    [Fact]
    public async Task PlainHttp_IsRefused_WhenHttpsIsRequired_WithoutSending()
    {
        using var cache = new JsonWebKeySetCache("test", _server.JwksUri, _http, Defaults with { TimeProvider = _time }, _log);

        var keys = await cache.GetKeysAsync(CancellationToken.None);

        Assert.Empty(keys);
        Assert.StartsWith("the key set address must be an absolute https URL", cache.LastFailure, StringComparison.Ordinal);
        Assert.Equal(0, _server.JwksRequests);
    }

    [Fact(Timeout = 60_000)]
    public async Task WarmUp_KeepsTryingUntilTheFirstGoodSet()
    {
        _server.Fail(503);
        using var cache = Cache();

        cache.StartWarmUp();
        await EventuallyAsync(() => cache.LastFailure is not null);
        _server.Publish(_key);
        await EventuallyAsync(() => cache.Current is not null, advance: TimeSpan.FromSeconds(1));

        Assert.Equal([_key.Kid], KeyIds(cache.Keys));
        Assert.True(_server.JwksRequests >= 2);
    }

    [Fact]
    public async Task AdoptKeySetFrom_TakesOverTheHeldSet_OnlyWhenNoneIsHeld()
    {
        using var previous = Cache();
        await previous.GetKeysAsync(CancellationToken.None);
        using var next = Cache();
        using var holding = Cache();
        _server.Publish(_otherKey);
        await holding.GetKeysAsync(CancellationToken.None);

        var adopted = next.AdoptKeySetFrom(previous);
        var overwritten = holding.AdoptKeySetFrom(previous);

        Assert.True(adopted);
        Assert.Equal([_key.Kid], KeyIds(await next.GetKeysAsync(CancellationToken.None)));
        Assert.False(overwritten);
        Assert.Equal([_otherKey.Kid], KeyIds(holding.Keys));
        Assert.Equal(2, _server.JwksRequests);
    }

    private JsonWebKeySetCache Cache(JsonWebKeySetCacheOptions? options = null)
        => new("test", _server.JwksUri, _http, (options ?? Defaults) with { RequireHttps = false, TimeProvider = _time }, _log);

    private static string[] KeyIds(IReadOnlyList<SecurityKey> keys) => [.. keys.Select(key => key.KeyId)];

    // Moves the fake clock on in steps while the task waits on it (retry delays, attempt timeouts).
    private async Task<T> PumpAsync<T>(Task<T> task)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!task.IsCompleted && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
            _time.Advance(TimeSpan.FromMilliseconds(100));
        }

        return await task;
    }

    private async Task EventuallyAsync(Func<bool> condition, TimeSpan? advance = null)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!condition() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
            if (advance is { } step)
            {
                _time.Advance(step);
            }
        }

        Assert.True(condition(), "the condition did not hold in time");
    }
}
