using System.Diagnostics.Metrics;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Moq;
using ZtGateway.Audit;
using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Engine;

namespace ZtGateway.Tests.Audit;

public sealed class AuditTrailTests
{
    private static AuditEvent Event(bool allowed, ReasonCode reason = ReasonCode.Allowed) => new()
    {
        Time = DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_000_000),
        DecisionId = "d-1",
        TraceId = "0af7651916cd43dd8448eb211c80319c",
        Decision = new Decision
        {
            Allowed = allowed,
            Reason = allowed ? ReasonCode.Allowed : reason,
            DestinationSegment = "hr",
            SourceSegment = "finance",
            RouteId = "payroll-read",
            RuleName = "ledger-sync",
            Service = "payroll",
        },
        Reason = reason,
        Method = "GET",
        Path = "/payroll/x",
        StatusCode = allowed ? 200 : 403,
        ClientAddress = IPAddress.Parse("10.10.1.2"),
        Principal = new Principal { Kind = PrincipalKind.Workload, Subject = "spiffe://corp/finance/ledger-sync", WorkloadId = "spiffe://corp/finance/ledger-sync" },
        Device = new DevicePosture { DeviceId = "laptop-7", Segment = "finance" },
        PolicyVersion = "abc",
    };

    [Fact]
    public void HttpActivity_HasTheOcsfFieldsOfTheDesign()
    {
        using var json = JsonDocument.Parse(OcsfWriter.HttpActivity(Event(allowed: false, ReasonCode.SegmentNotAllowed)));
        var root = json.RootElement;

        Assert.Equal(4002, root.GetProperty("class_uid").GetInt32());
        Assert.Equal(400203, root.GetProperty("type_uid").GetInt32());
        Assert.Equal(2, root.GetProperty("action_id").GetInt32());
        Assert.Equal(1_800_000_000_000, root.GetProperty("time").GetInt64());
        Assert.Equal("spiffe://corp/finance/ledger-sync", root.GetProperty("actor").GetProperty("user").GetProperty("uid").GetString());
        Assert.Equal("laptop-7", root.GetProperty("device").GetProperty("uid").GetString());
        Assert.Equal("10.10.1.2", root.GetProperty("src_endpoint").GetProperty("ip").GetString());
        Assert.Equal(403, root.GetProperty("http_response").GetProperty("code").GetInt32());
        Assert.Equal("payroll-read", root.GetProperty("policy").GetProperty("uid").GetString());
        Assert.Equal("ledger-sync", root.GetProperty("policy").GetProperty("name").GetString());
        Assert.Equal("d-1", root.GetProperty("metadata").GetProperty("uid").GetString());
        Assert.Equal("0af7651916cd43dd8448eb211c80319c", root.GetProperty("trace").GetProperty("uid").GetString());
        var ztgw = root.GetProperty("unmapped").GetProperty("ztgw");
        Assert.Equal("segment-not-allowed", ztgw.GetProperty("reason").GetString());
        Assert.Equal("finance", ztgw.GetProperty("src_segment").GetString());
        Assert.Equal("hr", ztgw.GetProperty("dst_segment").GetString());
        Assert.Equal("abc", ztgw.GetProperty("policy_version").GetString());
    }

    [Fact]
    public void FailingSink_IsCountedAndLogged_AndTheOtherSinksStillWrite()
    {
        var broken = new ThrowingSink();
        var good = new RecordingSink();
        var logger = new Mock<ILogger>();
        logger.Setup(l => l.IsEnabled(It.IsAny<LogLevel>())).Returns(true);
        long failures = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name == "ztgw.audit.failures")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref failures, value));
        listener.Start();
        using var trail = new AuditTrail([broken, good], auditAllows: true, logger.Object);

        trail.Record(Event(allowed: true));
        trail.Record(Event(allowed: false, ReasonCode.TokenMissing));

        Assert.Equal(2, good.Lines.Count);
        Assert.Equal(2, Interlocked.Read(ref failures));
        logger.Verify(l => l.Log(LogLevel.Error, It.IsAny<EventId>(), It.IsAny<It.IsAnyType>(), It.IsAny<IOException>(),
            It.IsAny<Func<It.IsAnyType, Exception?, string>>()), Times.Exactly(2));
    }

    [Fact]
    public void AllowsFalse_RecordsDenialsOnly()
    {
        var sink = new RecordingSink();
        using var trail = new AuditTrail([sink], auditAllows: false, NullLogger.Instance);

        trail.Record(Event(allowed: true));
        trail.Record(Event(allowed: false, ReasonCode.TokenMissing));
        trail.Record(Event(allowed: true, ReasonCode.UpstreamUnavailable));

        Assert.Equal(2, sink.Lines.Count);
    }

    [Fact]
    public void FileSink_AppendsAndNeverTruncates()
    {
        var path = Path.Combine(Path.GetTempPath(), "ztgw-audit-" + Guid.NewGuid().ToString("N"), "a.jsonl");
        File.WriteAllText(Path.Combine(Directory.CreateDirectory(Path.GetDirectoryName(path)!).FullName, "a.jsonl"), "earlier\n");
        using (var trail = new AuditTrail(new AuditSettings { Sinks = ["file:" + path] }, NullLogger.Instance))
        {
            trail.Record(Event(allowed: true));
            Assert.Equal(2, File.ReadAllLines(path).Length);
        }

        Assert.Equal("earlier", File.ReadAllLines(path)[0]);
    }

    [Fact]
    public async Task FileSink_ManyThreads_EveryLineWholeAndOnce()
    {
        var path = Path.Combine(Path.GetTempPath(), "ztgw-audit-" + Guid.NewGuid().ToString("N"), "a.jsonl");
        const int Threads = 8;
        const int PerThread = 400;
        using (var trail = new AuditTrail(new AuditSettings { Sinks = ["file:" + path] }, NullLogger.Instance))
        {
            using var start = new Barrier(Threads);
            var writers = Enumerable.Range(0, Threads).Select(t => Task.Factory.StartNew(() =>
            {
                start.SignalAndWait();
                for (var i = 0; i < PerThread; i++)
                {
                    // Lines of different lengths, so that an overlap or a torn line cannot go unnoticed.
                    trail.Record(Event(allowed: true) with { DecisionId = $"d-{t}-{i}", Path = "/payroll/" + new string('x', (t * 37 + i) % 300) });
                }
            }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToArray();
            await Task.WhenAll(writers);
        }

        var lines = await File.ReadAllLinesAsync(path);
        Assert.Equal(Threads * PerThread, lines.Length);
        var ids = lines.Select(line => JsonDocument.Parse(line).RootElement.GetProperty("metadata").GetProperty("uid").GetString()).ToHashSet();
        Assert.Equal(Threads * PerThread, ids.Count);
    }

    [Fact]
    public void FileSink_FileTruncatedUnderneath_NextLineGoesToItsRealEnd()
    {
        // A log rotation by copy-and-truncate: the next line must start the file again, not leave a hole of NULs
        // where the earlier lines were.
        var path = Path.Combine(Path.GetTempPath(), "ztgw-audit-" + Guid.NewGuid().ToString("N"), "a.jsonl");
        using var trail = new AuditTrail(new AuditSettings { Sinks = ["file:" + path] }, NullLogger.Instance);
        trail.Record(Event(allowed: true) with { DecisionId = "d-before" });
        trail.Record(Event(allowed: true) with { DecisionId = "d-before-2" });
        using (var truncate = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete))
        {
            truncate.SetLength(0);
        }

        trail.Record(Event(allowed: true) with { DecisionId = "d-after" });

        var bytes = File.ReadAllBytes(path);
        Assert.DoesNotContain((byte)0, bytes);
        var line = Assert.Single(File.ReadAllLines(path));
        Assert.Equal("d-after", JsonDocument.Parse(line).RootElement.GetProperty("metadata").GetProperty("uid").GetString());
    }

    [Fact]
    public void FileSink_NewFile_IsNotWorldReadable()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // The O_APPEND file and its mode are Linux's; elsewhere the file stream's defaults apply.
        }

        var path = Path.Combine(Path.GetTempPath(), "ztgw-audit-" + Guid.NewGuid().ToString("N"), "a.jsonl");
        using var trail = new AuditTrail(new AuditSettings { Sinks = ["file:" + path] }, NullLogger.Instance);
        trail.Record(Event(allowed: true));

        var mode = File.GetUnixFileMode(path);
        Assert.Equal(UnixFileMode.None, mode & (UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute));
        Assert.Equal(UnixFileMode.None, mode & (UnixFileMode.GroupWrite | UnixFileMode.GroupExecute));
    }

    [Fact]
    public void Lines_RenderedOneAfterAnother_OnOneThread_AreEachComplete()
    {
        // The line buffer is reused per thread: a short line after a long one must not carry the long one's tail.
        var sink = new RecordingSink();
        using var trail = new AuditTrail([sink], auditAllows: true, NullLogger.Instance);
        var longPath = "/payroll/" + new string('x', 40_000);

        trail.Record(Event(allowed: true) with { DecisionId = "d-long", Path = longPath });
        trail.Record(Event(allowed: false, ReasonCode.TokenMissing) with { DecisionId = "d-short" });
        trail.Record(Event(allowed: true) with { DecisionId = "d-again" });

        Assert.Equal(3, sink.Lines.Count);
        Assert.All(sink.Lines, line => Assert.Equal(1, line.Count(c => c == '\n')));
        Assert.All(sink.Lines, line => Assert.EndsWith("}\n", line, StringComparison.Ordinal));
        var parsed = sink.Lines.Select(line => JsonDocument.Parse(line).RootElement).ToList();
        Assert.Equal(["d-long", "d-short", "d-again"], parsed.Select(p => p.GetProperty("metadata").GetProperty("uid").GetString()));
        Assert.Equal(longPath, parsed[0].GetProperty("http_request").GetProperty("url").GetProperty("path").GetString());
        Assert.Equal("/payroll/x", parsed[1].GetProperty("http_request").GetProperty("url").GetProperty("path").GetString());
        Assert.Equal(OcsfWriter.HttpActivity(Event(allowed: true) with { DecisionId = "d-again" }), System.Text.Encoding.UTF8.GetBytes(sink.Lines[2]));
    }

    private sealed class ThrowingSink : IAuditSink
    {
        public string Name => "file:/full-disk/audit.jsonl";

        public void Write(ReadOnlySpan<byte> line) => throw new IOException("disk full");

        public void Dispose()
        {
        }
    }

    private sealed class RecordingSink : IAuditSink
    {
        public List<string> Lines { get; } = [];

        public string Name => "memory";

        public void Write(ReadOnlySpan<byte> line) => Lines.Add(System.Text.Encoding.UTF8.GetString(line));

        public void Dispose()
        {
        }
    }
}
