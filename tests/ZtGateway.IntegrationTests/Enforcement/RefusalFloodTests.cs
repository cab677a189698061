using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.IdentityModel.Tokens;
using Xunit.Abstractions;
using ZtGateway.IntegrationTests.Infrastructure;

namespace ZtGateway.IntegrationTests.Enforcement;

/// <summary>
/// A flood of forged tokens from one address, through a real listener: once the source has used up its refusals it is
/// answered 429 without any verification, while a client on another address keeps being served; every refused request
/// is in the audit, the 429s in aggregated lines whose decision ids the answers carry.
/// </summary>
public sealed class RefusalFloodTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int FloodRequests = 300;
    private const int FloodConnections = 8;
    private const int ForgedTokens = 50;
    private const int Burst = 40;
    private static readonly IPAddress FloodAddress = IPAddress.Parse("127.0.0.2");

    private readonly TestIdentity _identity = new();
    private EchoUpstream _ledger = null!;
    private TestGateway _gateway = null!;

    public async Task InitializeAsync() => _ledger = await EchoUpstream.StartAsync("ledger");

    public async Task DisposeAsync()
    {
        if (_gateway is not null)
        {
            await _gateway.DisposeAsync();
        }

        await _ledger.DisposeAsync();
        _identity.Dispose();
    }

    private async Task StartAsync(string limits)
    {
        var yaml = TestGateway.DefaultGatewayYaml.Replace("gateway:\n", "gateway:\n  limits: " + limits + "\n", StringComparison.Ordinal);
        Assert.Contains(limits, yaml, StringComparison.Ordinal);
        _gateway = await TestGateway.StartAsync(_identity, Topology.Standard(_ledger.Url, _ledger.Url, DateTimeOffset.UtcNow.AddDays(1)), yaml);
    }

    [Fact]
    public async Task Flood_IsRateLimited_WhileAnotherAddressIsServed_AndEveryRefusalIsAudited()
    {
        await StartAsync($"{{ refusalsPerSource: 20/s, refusalBurst: {Burst} }}");
        var now = _gateway.Time.GetUtcNow();
        var good = _identity.User(now, "alice", ["finance-staff"]);

        // Each forged token names the real key id and is signed with another key: a full RS256 check, if let in and
        // not yet remembered as refused. The flood cycles through them.
        var forger = new RsaSecurityKey(_identity.OtherKey.Rsa) { KeyId = _identity.Key.KeyId };
        var forged = Enumerable.Range(0, ForgedTokens).Select(i => _identity.User(now, "mallory-" + i, ["finance-staff"], key: forger)).ToArray();

        using var flooder = new HttpClient(FromAddress(FloodAddress, FloodConnections)) { BaseAddress = _gateway.Listener("finance"), Timeout = TimeSpan.FromSeconds(30) };
        using var legit = _gateway.Client("finance");
        var answers = new ConcurrentBag<(HttpStatusCode Status, string? Reason, string? DecisionId, string? RetryAfter, bool Challenge)>();
        var next = -1;
        var halfway = new TaskCompletionSource();

        async Task FloodAsync()
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < FloodRequests)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, "/ledger/2026");
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", forged[i % ForgedTokens]);
                using var response = await flooder.SendAsync(request);
                var problem = await Problem.ReadAsync(response);
                answers.Add((problem.Status, problem.Reason, problem.DecisionId, response.Headers.RetryAfter?.Delta?.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    problem.Challenge is not null));
                if (i == FloodRequests / 2)
                {
                    halfway.TrySetResult();
                }
            }
        }

        var flood = Enumerable.Range(0, FloodConnections).Select(_ => Task.Run(FloodAsync)).ToList();

        // Halfway through, the gateway's clock moves to the next second: the 429s fall into at least two windows.
        var clock = Task.Run(async () =>
        {
            await halfway.Task.WaitAsync(TimeSpan.FromSeconds(60));
            _gateway.Time.Advance(TimeSpan.FromSeconds(1));
        });

        var legitStatuses = new List<HttpStatusCode>();
        while (!flood.All(f => f.IsCompleted) || legitStatuses.Count < 10)
        {
            legitStatuses.Add((await Problem.SendAsync(legit, HttpMethod.Get, "/ledger/2026", good)).Status);
            Assert.True(legitStatuses.Count < 2_000, "the flood did not finish");
        }

        await Task.WhenAll([.. flood, clock]);

        // Past the second of the last window: the flush timer writes it.
        _gateway.Time.Advance(TimeSpan.FromSeconds(2));
        var lines = (await AuditLines.ReadWithoutPolicyChangesAsync(_gateway.AuditFile)).Select(l => JsonDocument.Parse(l).RootElement).ToList();

        var limited = answers.Where(a => a.Status == HttpStatusCode.TooManyRequests).ToList();
        var refusedOnce = answers.Where(a => a.Status == HttpStatusCode.Unauthorized).ToList();
        Assert.Equal(FloodRequests, answers.Count);
        Assert.Equal(FloodRequests, limited.Count + refusedOnce.Count);
        Assert.InRange(refusedOnce.Count, Burst, FloodRequests - 1);
        Assert.NotEmpty(limited);
        Assert.All(refusedOnce, a => Assert.Equal("token-invalid", a.Reason));
        Assert.All(limited, a => Assert.Equal(("rate-limited", "1", false), (a.Reason, a.RetryAfter, a.Challenge)));

        Assert.All(legitStatuses, s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.Equal(legitStatuses.Count, _ledger.Requests.Count);

        var fromFlood = lines.Where(l => l.GetProperty("src_endpoint").TryGetProperty("ip", out var ip) && ip.GetString() == "127.0.0.2").ToList();
        var aggregated = fromFlood.Where(l => l.TryGetProperty("count", out _)).ToList();
        var single = fromFlood.Where(l => !l.TryGetProperty("count", out _)).ToList();
        Assert.All(fromFlood, l => Assert.Equal(2, l.GetProperty("action_id").GetInt32()));
        Assert.Equal(refusedOnce.Count, single.Count);
        Assert.All(single, l => Assert.Equal("token-invalid", Reason(l)));
        Assert.All(aggregated, l => Assert.Equal("rate-limited", Reason(l)));
        Assert.Equal(limited.Count, aggregated.Sum(l => l.GetProperty("count").GetInt32()));
        Assert.Equal(FloodRequests, single.Count + aggregated.Sum(l => l.GetProperty("count").GetInt32()));

        output.WriteLine($"flood: {refusedOnce.Count} x 401, {limited.Count} x 429 in {aggregated.Count} line(s); other address: {legitStatuses.Count} x 200");
        var windowIds = aggregated.Select(l => l.GetProperty("metadata").GetProperty("uid").GetString()).ToHashSet();
        Assert.Equal(aggregated.Count, windowIds.Count);
        Assert.True(windowIds.Count >= 2, $"{windowIds.Count} window(s)");
        Assert.All(limited, a => Assert.Contains(a.DecisionId, windowIds));
        Assert.Equal(windowIds, limited.Select(a => a.DecisionId).ToHashSet());
        var refusedIds = single.Select(l => l.GetProperty("metadata").GetProperty("uid").GetString()).ToHashSet();
        Assert.All(refusedOnce, a => Assert.Contains(a.DecisionId, refusedIds));

        var fromLegit = lines.Where(l => l.GetProperty("src_endpoint").TryGetProperty("ip", out var ip) && ip.GetString() == "127.0.0.1").ToList();
        Assert.Equal(legitStatuses.Count, fromLegit.Count);
        Assert.All(fromLegit, l => Assert.Equal("allowed", Reason(l)));
    }

    [Fact]
    public async Task LimitedSource_IsAnsweredBeforeItsCredentialsAreLookedAt_EvenAValidToken()
    {
        // One refusal a minute: nothing refills while the test runs.
        await StartAsync("{ refusalsPerSource: 1/m, refusalBurst: 5 }");
        var now = _gateway.Time.GetUtcNow();
        using var client = new HttpClient(FromAddress(FloodAddress, 1)) { BaseAddress = _gateway.Listener("finance") };
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await Problem.SendAsync(client, HttpMethod.Get, "/ledger/2026", "garbage-" + i)).Status);
        }

        // The same source now sends a valid token: nothing of it is verified, and nothing is forwarded.
        var answer = await Problem.SendAsync(client, HttpMethod.Get, "/ledger/2026", _identity.User(now, "alice", ["finance-staff"]));

        Assert.Equal((HttpStatusCode.TooManyRequests, "rate-limited"), (answer.Status, answer.Reason));
        Assert.Empty(_ledger.Requests);

        // Another address is not touched by it.
        using var other = _gateway.Client("finance");
        Assert.Equal(HttpStatusCode.OK, (await Problem.SendAsync(other, HttpMethod.Get, "/ledger/2026", _identity.User(now, "alice", ["finance-staff"]))).Status);
    }

    private static string? Reason(JsonElement line) => line.GetProperty("unmapped").GetProperty("ztgw").GetProperty("reason").GetString();

    // Connections whose local address is `address`: Linux routes all of 127.0.0.0/8 over the loopback interface.
    private static SocketsHttpHandler FromAddress(IPAddress address, int connections) => new()
    {
        MaxConnectionsPerServer = connections,
        ConnectCallback = async (context, cancellationToken) =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                socket.Bind(new IPEndPoint(address, 0));
                await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    };
}
