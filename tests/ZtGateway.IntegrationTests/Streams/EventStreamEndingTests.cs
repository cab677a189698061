using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text.Json;
using ZtGateway.IntegrationTests.Continuous;
using ZtGateway.IntegrationTests.Infrastructure;

namespace ZtGateway.IntegrationTests.Streams;

/// <summary>A server-sent event stream passes after the decision and is cut within 2 s of its caller's revocation.</summary>
public sealed class EventStreamEndingTests : IAsyncLifetime
{
    private readonly TestIdentity _identity = new();
    private readonly TestTransmitter _transmitter = new();
    private StreamingUpstream _upstream = null!;
    private ContinuousGateway _gateway = null!;

    public async Task InitializeAsync()
    {
        _upstream = await StreamingUpstream.StartAsync();
        _gateway = await ContinuousGateway.StartAsync(_identity, _transmitter, StreamSegments.For(_upstream));
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
        _identity.Dispose();
        _transmitter.Dispose();
    }

    [Fact]
    public async Task AnEventStream_IsCut_WhenItsCallerIsRevoked()
    {
        var now = _gateway.Time.GetUtcNow();
        using var client = _gateway.Client("finance");
        using var request = new HttpRequestMessage(HttpMethod.Get, "/events/ticks");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _identity.User(now, "alice", ["staff"]));
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        Assert.Equal("data: tick 0", await reader.ReadLineAsync());

        // Open for a second (on the gateway's clock): past the grace of a request decided just before the change.
        _gateway.Time.Advance(TimeSpan.FromSeconds(1));
        var clock = Stopwatch.StartNew();
        Assert.Equal(202, (await _gateway.PushAsync(_transmitter.UserEvent(now, "session-revoked", "alice"))).Status);

        // Events already on their way may still be read; then the stream ends in an error, never in a clean end.
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        var cut = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            for (var i = 0; i < 1_000; i++)
            {
                if (await reader.ReadLineAsync(bound.Token) is null)
                {
                    return;
                }
            }
        });
        clock.Stop();
        Assert.False(bound.IsCancellationRequested, $"still streaming after {clock.Elapsed}");
        Assert.True(cut is IOException or HttpRequestException, cut.ToString());

        AssertEndingAudited();
    }

    [Fact]
    public async Task AStreamOpenedJustBeforeTheRevocation_IsCutByTheNextSweep()
    {
        var now = _gateway.Time.GetUtcNow();
        using var client = _gateway.Client("finance");
        using var request = new HttpRequestMessage(HttpMethod.Get, "/events/ticks");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _identity.User(now, "alice", ["staff"]));
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        Assert.Equal(202, (await _gateway.PushAsync(_transmitter.UserEvent(now, "session-revoked", "alice"))).Status);

        // Decided a moment before the change, it is let run for now, like a request that had just finished.
        for (var i = 0; i < 4; i++)
        {
            Assert.NotNull(await reader.ReadLineAsync());
        }

        // The next sweep finds it still open and cuts it.
        _gateway.Time.Advance(TimeSpan.FromSeconds(1));
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            for (var i = 0; i < 1_000 && await reader.ReadLineAsync(bound.Token) is not null; i++)
            {
            }
        });
        Assert.False(bound.IsCancellationRequested);
        AssertEndingAudited();
    }

    private void AssertEndingAudited()
    {
        var ending = Assert.Single(File.ReadAllLines(_gateway.AuditFile).Select(l => JsonDocument.Parse(l).RootElement),
            l => l.TryGetProperty("unmapped", out var u) && u.GetProperty("ztgw").TryGetProperty("ended", out _));
        Assert.Equal("abort", ending.GetProperty("unmapped").GetProperty("ztgw").GetProperty("ending").GetString());
        Assert.Equal("stream", ending.GetProperty("unmapped").GetProperty("ztgw").GetProperty("exchange").GetString());
        Assert.Equal("token-revoked", ending.GetProperty("status_detail").GetString());
    }
}
