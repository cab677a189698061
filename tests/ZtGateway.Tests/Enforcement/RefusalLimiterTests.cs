using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using ZtGateway.Audit;
using ZtGateway.Enforcement.Refusals;
using ZtGateway.Policy.Configuration;

namespace ZtGateway.Tests.Enforcement;

/// <summary>
/// The per-source refusal limit: only refusals take from a source's bucket, an empty bucket limits that source only,
/// and every 429 is counted in an aggregated audit line whose decision id the answer carries.
/// </summary>
public sealed class RefusalLimiterTests
{
    private static readonly IPAddress Attacker = IPAddress.Parse("192.0.2.7");
    private static readonly IPAddress Neighbour = IPAddress.Parse("192.0.2.8");

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 28, 12, 0, 0, 250, TimeSpan.Zero));
    private readonly MemorySink _sink = new();

    // A refill this slow adds nothing while a test runs, so the bucket holds exactly what the test left in it.
    private static RefusalLimiterOptions Slow(int burst) => new() { RefusalsPerSource = new RefusalRate(1, TimeSpan.FromMinutes(1)), RefusalBurst = burst };

    [Fact]
    public void Source_IsLimited_OnceItsBurstOfRefusalsIsUsedUp_AndNoOtherSourceIs()
    {
        using var limiter = Limiter(Slow(burst: 3));

        var before = new List<bool>();
        for (var i = 0; i < 3; i++)
        {
            before.Add(limiter.IsLimited(Attacker));
            limiter.Refused(Attacker);
        }

        Assert.All(before, limited => Assert.False(limited));
        Assert.True(limiter.IsLimited(Attacker));
        Assert.False(limiter.IsLimited(Neighbour));
        Assert.False(limiter.IsLimited(null));
    }

    [Fact]
    public void AllowedRequests_NeverTakeFromTheBucket()
    {
        // The limiter is asked about every request but told only of refusals: asking alone must never limit.
        using var limiter = Limiter(Slow(burst: 2));

        for (var i = 0; i < 1_000; i++)
        {
            Assert.False(limiter.IsLimited(Attacker));
        }

        limiter.Refused(Attacker);
        Assert.False(limiter.IsLimited(Attacker));
    }

    [Fact]
    public void Ipv6Addresses_OfOneSlash64_ShareABucket()
    {
        using var limiter = Limiter(Slow(burst: 2));

        limiter.Refused(IPAddress.Parse("2001:db8:1:2::1"));
        limiter.Refused(IPAddress.Parse("2001:db8:1:2:ffff::9"));

        Assert.True(limiter.IsLimited(IPAddress.Parse("2001:db8:1:2::77")));
        Assert.False(limiter.IsLimited(IPAddress.Parse("2001:db8:1:3::1")));
    }

    [Fact]
    public void UnknownAddresses_ShareOneBucket()
    {
        using var limiter = Limiter(Slow(burst: 1));

        limiter.Refused(null);

        Assert.True(limiter.IsLimited(null));
        Assert.False(limiter.IsLimited(Attacker));
    }

    [Fact]
    public void Off_NeverLimits()
    {
        using var limiter = Limiter(new RefusalLimiterOptions { RefusalsPerSource = null, RefusalBurst = 1 });

        for (var i = 0; i < 10; i++)
        {
            limiter.Refused(Attacker);
        }

        Assert.False(limiter.IsLimited(Attacker));
    }

    [Fact]
    public async Task Bucket_Refills_AndTheSourceIsServedAgain()
    {
        // 20 a second: one refusal comes back within 50 ms; the bound is generous, the limiter keeps real time.
        using var limiter = Limiter(new RefusalLimiterOptions { RefusalsPerSource = new RefusalRate(20, TimeSpan.FromSeconds(1)), RefusalBurst = 1 });
        limiter.Refused(Attacker);
        Assert.True(limiter.IsLimited(Attacker));

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (limiter.IsLimited(Attacker) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        Assert.False(limiter.IsLimited(Attacker));
    }

    [Fact]
    public async Task Sweep_ForgetsSourcesThatRefilled()
    {
        using var limiter = Limiter(new RefusalLimiterOptions { RefusalsPerSource = new RefusalRate(20, TimeSpan.FromSeconds(1)), RefusalBurst = 1 });
        limiter.Refused(Attacker);
        Assert.Equal(1, limiter.ExhaustedCount);

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (limiter.ExhaustedCount > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
            limiter.Sweep();
        }

        Assert.Equal(0, limiter.ExhaustedCount);
    }

    [Theory]
    [InlineData(50, 1, 1)]
    [InlineData(1, 1, 1)]
    [InlineData(600, 60, 1)]
    [InlineData(10, 60, 6)]
    [InlineData(7, 60, 9)]
    public void RetryAfter_IsTheTimeOneRefusalTakesToRefill(int count, int periodSeconds, int expected)
    {
        var options = new RefusalLimiterOptions { RefusalsPerSource = new RefusalRate(count, TimeSpan.FromSeconds(periodSeconds)) };

        Assert.Equal(expected, options.RetryAfterSeconds);
    }

    [Fact]
    public async Task Answer_Is429ProblemJson_WithRetryAfter_AndTheWindowsDecisionId()
    {
        using var limiter = Limiter(new RefusalLimiterOptions { RefusalsPerSource = new RefusalRate(10, TimeSpan.FromMinutes(1)), RefusalBurst = 1 });

        var (first, firstBody) = await AnswerAsync(limiter, "/ledger/1");
        var (second, secondBody) = await AnswerAsync(limiter, "/ledger/2");
        limiter.Dispose();

        Assert.Equal(429, first.Response.StatusCode);
        Assert.Equal("6", first.Response.Headers.RetryAfter.ToString());
        Assert.Equal("application/problem+json", first.Response.ContentType);
        using var json = JsonDocument.Parse(firstBody);
        Assert.Equal("rate-limited", json.RootElement.GetProperty("reason").GetString());
        Assert.Equal("0af7651916cd43dd8448eb211c80319c", json.RootElement.GetProperty("traceId").GetString());
        var decisionId = json.RootElement.GetProperty("decisionId").GetString();
        using var secondJson = JsonDocument.Parse(secondBody);
        Assert.Equal(decisionId, secondJson.RootElement.GetProperty("decisionId").GetString());

        var line = Assert.Single(_sink.Lines);
        Assert.Equal(decisionId, line.GetProperty("metadata").GetProperty("uid").GetString());
        Assert.Equal(2, line.GetProperty("count").GetInt32());
        Assert.False(line.TryGetProperty("http_request", out _), "two paths: the line names neither");
    }

    [Fact]
    public void Windows_OneLinePerSourceAndSecond_WithCountStartAndEnd()
    {
        using var windows = Windows();
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add(windows.Add(SourceKey.Of(Attacker), Attacker, "finance", "GET", "/ledger/1"));
            _time.Advance(TimeSpan.FromMilliseconds(100));
        }

        ids.Add(windows.Add(SourceKey.Of(Neighbour), Neighbour, "finance", "GET", "/ledger/1"));
        ids.Add(windows.Add(SourceKey.Of(Attacker), Attacker, "hr", "POST", "/payroll"));
        var beforeTheSecondEnds = _sink.Lines.Count;
        _time.Advance(TimeSpan.FromMilliseconds(600)); // the second is over and the flush timer came due

        Assert.Equal(0, beforeTheSecondEnds);
        Assert.Single(ids.Take(5).Distinct());
        Assert.Equal(3, ids.Distinct().Count());
        Assert.Equal(3, _sink.Lines.Count);
        var attacker = _sink.Lines.Single(l => l.GetProperty("unmapped").GetProperty("ztgw").GetProperty("dst_segment").GetString() == "finance"
            && l.GetProperty("src_endpoint").GetProperty("ip").GetString() == "192.0.2.7");
        Assert.Equal(5, attacker.GetProperty("count").GetInt32());
        Assert.Equal(ids[0], attacker.GetProperty("metadata").GetProperty("uid").GetString());
        var start = _time.Start.ToUnixTimeMilliseconds();
        Assert.Equal(start, attacker.GetProperty("start_time").GetInt64());
        Assert.Equal(start, attacker.GetProperty("time").GetInt64());
        Assert.Equal(start + 400, attacker.GetProperty("end_time").GetInt64());
        Assert.Equal(4002, attacker.GetProperty("class_uid").GetInt32());
        Assert.Equal(2, attacker.GetProperty("action_id").GetInt32());
        Assert.Equal(429, attacker.GetProperty("http_response").GetProperty("code").GetInt32());
        Assert.Equal("GET", attacker.GetProperty("http_request").GetProperty("http_method").GetString());
        Assert.Equal("/ledger/1", attacker.GetProperty("http_request").GetProperty("url").GetProperty("path").GetString());
        var ztgw = attacker.GetProperty("unmapped").GetProperty("ztgw");
        Assert.Equal("rate-limited", ztgw.GetProperty("reason").GetString());
        Assert.Equal("192.0.2.7", ztgw.GetProperty("source").GetString());
        Assert.Equal("v1", ztgw.GetProperty("policy_version").GetString());
    }

    [Fact]
    public void Windows_ANewSecond_OpensANewWindow_AndTheOldOneIsWritten()
    {
        using var windows = Windows(flushInterval: TimeSpan.FromHours(1));
        var first = windows.Add(SourceKey.Of(Attacker), Attacker, "finance", "GET", "/x");
        _time.Advance(TimeSpan.FromSeconds(1));
        var second = windows.Add(SourceKey.Of(Attacker), Attacker, "finance", "GET", "/x");

        Assert.NotEqual(first, second);
        var line = Assert.Single(_sink.Lines);
        Assert.Equal(first, line.GetProperty("metadata").GetProperty("uid").GetString());
    }

    [Fact]
    public void Windows_Dispose_WritesTheLastWindow()
    {
        var windows = Windows(flushInterval: TimeSpan.FromHours(1));
        var id = windows.Add(SourceKey.Of(Attacker), Attacker, "finance", "GET", "/x");
        windows.Add(SourceKey.Of(Attacker), Attacker, "finance", "GET", "/x");

        windows.Dispose();
        var late = windows.Add(SourceKey.Of(Attacker), Attacker, "finance", "GET", "/x");

        Assert.Equal(2, _sink.Lines.Count);
        Assert.Equal((id, 2), (_sink.Lines[0].GetProperty("metadata").GetProperty("uid").GetString(), _sink.Lines[0].GetProperty("count").GetInt32()));
        Assert.Equal((late, 1), (_sink.Lines[1].GetProperty("metadata").GetProperty("uid").GetString(), _sink.Lines[1].GetProperty("count").GetInt32()));
    }

    [Fact]
    public void Windows_AreBounded_ASourcePastTheBoundGetsALineOfItsOwn()
    {
        using var windows = Windows(capacity: 2, flushInterval: TimeSpan.FromHours(1));
        for (var i = 1; i <= 10; i++)
        {
            var address = IPAddress.Parse("198.51.100." + i);
            windows.Add(SourceKey.Of(address), address, "finance", "GET", "/x");
            Assert.True(windows.OpenCount <= 2);
        }

        windows.Dispose();

        Assert.Equal(10, _sink.Lines.Count);
        Assert.Equal(10, _sink.Lines.Sum(l => l.GetProperty("count").GetInt32()));
    }

    [Fact]
    public async Task Windows_CountEveryRequest_UnderConcurrentAddsAndFlushes()
    {
        var ids = new System.Collections.Concurrent.ConcurrentBag<string>();
        var windows = Windows(flushInterval: TimeSpan.FromMilliseconds(100));
        var adders = Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < 2_000; i++)
            {
                ids.Add(windows.Add(SourceKey.Of(Attacker), Attacker, "finance", "GET", "/x"));
            }
        })).ToList();
        var clock = Task.Run(async () =>
        {
            while (!adders.All(a => a.IsCompleted))
            {
                _time.Advance(TimeSpan.FromMilliseconds(300));
                await Task.Yield();
            }
        });
        await Task.WhenAll([.. adders, clock]);
        windows.Dispose();

        var counted = _sink.Lines.Sum(l => l.GetProperty("count").GetInt32());
        var written = _sink.Lines.Select(l => l.GetProperty("metadata").GetProperty("uid").GetString()).ToHashSet();
        Assert.Equal(8_000, counted);
        Assert.True(written.SetEquals(ids), "every decision id answered is in the audit, and only those");
        Assert.Equal(written.Count, _sink.Lines.Count);
    }

    [Theory]
    [InlineData("192.0.2.7", "192.0.2.7")]
    [InlineData("::ffff:192.0.2.7", "192.0.2.7")]
    [InlineData("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64")]
    [InlineData("::1", "::/64")]
    [InlineData(null, "unknown")]
    public void SourceKey_Names(string? address, string expected)
    {
        Assert.Equal(expected, SourceKey.Of(address is null ? null : IPAddress.Parse(address)).ToString());
    }

    [Fact]
    public void SourceKey_IPv4AndIPv6AndUnknown_NeverCollide()
    {
        var keys = new[] { "0.0.0.0", "255.255.255.255", "::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff" }
            .Select(a => SourceKey.Of(IPAddress.Parse(a)))
            .Append(SourceKey.Unknown)
            .ToList();

        Assert.Equal(keys.Count, keys.Distinct().Count());
        Assert.Equal(SourceKey.Of(IPAddress.Parse("192.0.2.7")), SourceKey.Of(IPAddress.Parse("::ffff:192.0.2.7")));
    }

    private RefusalLimiter Limiter(RefusalLimiterOptions options) =>
        new(options, new AuditTrail([_sink], auditAllows: true, NullLogger.Instance), "v1", _time, NullLogger.Instance);

    private RateLimitedWindows Windows(int capacity = 100, TimeSpan? flushInterval = null) =>
        new(new AuditTrail([_sink], auditAllows: true, NullLogger.Instance), "v1", _time, capacity, flushInterval ?? TimeSpan.FromSeconds(1));

    private static async Task<(HttpContext Context, string Body)> AnswerAsync(RefusalLimiter limiter, string path)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "GET";
        context.Request.Path = path;
        var body = new MemoryStream();
        context.Response.Body = body;
        var decisionId = limiter.RecordLimited(context, "finance", Attacker);
        await limiter.AnswerAsync(context, "finance", decisionId, "0af7651916cd43dd8448eb211c80319c");
        return (context, Encoding.UTF8.GetString(body.ToArray()));
    }

    /// <summary>Keeps every audit line, parsed.</summary>
    private sealed class MemorySink : IAuditSink
    {
        private readonly List<JsonElement> _lines = [];

        public string Name => "memory";

        public List<JsonElement> Lines
        {
            get
            {
                lock (_lines)
                {
                    return [.. _lines];
                }
            }
        }

        public void Write(ReadOnlySpan<byte> line)
        {
            var element = JsonDocument.Parse(line.ToArray()).RootElement.Clone();
            lock (_lines)
            {
                _lines.Add(element);
            }
        }

        public void Dispose()
        {
        }
    }
}
