using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using ZtGateway.Audit;
using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Engine;

namespace ZtGateway.Tests.Audit;

/// <summary>
/// The otlp sink off the request path: a collector that takes connections and never answers holds no write, the
/// queue is bounded and what does not fit is counted, and closing the sink waits a bounded time. The audit trail
/// tells every sink what each line is.
/// </summary>
public sealed class OtlpSinkTests : IDisposable
{
    private static readonly byte[] Line = "{\"class_uid\":4002}\n"u8.ToArray();

    private readonly TcpListener _silent = new(IPAddress.Loopback, 0);
    private readonly MeterListener _meters = new();
    private readonly ConcurrentDictionary<string, long> _dropped = new();
    private readonly string _endpoint;

    public OtlpSinkTests()
    {
        // Connections complete in the kernel's backlog; nothing ever reads or answers them.
        _silent.Start(backlog: 16);
        _endpoint = $"http://127.0.0.1:{((IPEndPoint)_silent.LocalEndpoint).Port}";
        _meters.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == AuditTrail.MeterName && instrument.Name == "ztgw.audit.otlp.dropped")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _meters.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            var sink = tags.ToArray().FirstOrDefault(t => t.Key == "sink").Value as string;
            var reason = tags.ToArray().FirstOrDefault(t => t.Key == "reason").Value as string;
            if (sink == "otlp:" + _endpoint && reason is not null)
            {
                _dropped.AddOrUpdate(reason, value, (_, total) => total + value);
            }
        });
        _meters.Start();
    }

    public void Dispose()
    {
        _meters.Dispose();
        _silent.Stop();
    }

    [Fact]
    public void AFullQueue_DropsAndCounts_WithoutEverWaiting()
    {
        var sink = new OtlpSink(new OtlpSinkSettings { Endpoint = _endpoint, MaxQueue = 5 }, "ztgw", NullLogger.Instance, TimeSpan.FromMilliseconds(20));
        try
        {
            var watch = Stopwatch.StartNew();
            for (var i = 0; i < 50; i++)
            {
                sink.Write(Line, new AuditLineInfo("d-" + i, 4002, "d-" + i, null, null, Notable: false));
            }

            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1), $"50 writes took {watch.Elapsed}");
            Assert.Equal(5, sink.Pending);
            Assert.Equal(45, _dropped.GetValueOrDefault(OtlpSink.QueueFull));
        }
        finally
        {
            var closing = Stopwatch.StartNew();
            sink.Dispose();
            Assert.True(closing.Elapsed < OtlpSink.ShutdownTimeout + TimeSpan.FromSeconds(3), $"closing took {closing.Elapsed}");
        }

        // The five that waited are lost with the sink, counted once (by the close, or as the cancelled export).
        Assert.Equal(5, _dropped.GetValueOrDefault(OtlpSink.Closed) + _dropped.GetValueOrDefault(OtlpSink.ExportFailed));
        Assert.Equal(0, sink.Pending);
    }

    [Fact]
    public void AClosedSink_CountsWhatItIsGiven_AndNeverThrows()
    {
        var sink = new OtlpSink(new OtlpSinkSettings { Endpoint = _endpoint }, "ztgw", NullLogger.Instance);
        sink.Dispose();
        sink.Dispose();

        sink.Write(Line, new AuditLineInfo("d-1", 4002, "d-1", null, null, Notable: false));
        sink.Write(Line);

        Assert.Equal(2, _dropped.GetValueOrDefault(OtlpSink.Closed));
    }

    [Theory]
    [InlineData("0AF7651916CD43DD8448EB211C80319C", "b7ad6b7169203331")]
    [InlineData("00000000000000000000000000000000", "b7ad6b7169203331")]
    [InlineData("0af7651916cd43dd8448eb211c80319c", "not-a-span-id!!!")]
    [InlineData("short", null)]
    public void AnUnusableTraceOrSpanId_IsLeftOut_NotAnError(string traceId, string? spanId)
    {
        var logger = new Moq.Mock<Microsoft.Extensions.Logging.ILogger>();
        var sink = new OtlpSink(new OtlpSinkSettings { Endpoint = _endpoint }, "ztgw", logger.Object);
        try
        {
            sink.Write(Line, new AuditLineInfo("d-1", 4002, "d-1", traceId, spanId, Notable: false));

            Assert.Equal(1, sink.Pending);
            Assert.Empty(_dropped);
            Assert.DoesNotContain(logger.Invocations, i => i.Method.Name == "Log");
        }
        finally
        {
            sink.Dispose();
        }
    }

    [Theory]
    [InlineData("http://c:4318", "http/protobuf", "http://c:4318/v1/logs")]
    [InlineData("http://c:4318/", "http/protobuf", "http://c:4318/v1/logs")]
    [InlineData("https://c.corp/otlp/v1/logs", "http/protobuf", "https://c.corp/otlp/v1/logs")]
    [InlineData("http://c:4317", "grpc", "http://c:4317/")]
    public void AnHttpEndpointWithoutAPath_IsTheCollectorsBaseAddress(string endpoint, string protocol, string expected)
    {
        Assert.Equal(new Uri(expected), OtlpSink.ExportEndpoint(new OtlpSinkSettings { Endpoint = endpoint, Protocol = protocol }));
    }

    [Fact]
    public void TheTrail_TellsEachSinkWhatEachLineIs()
    {
        var sink = new InfoSink();
        using var trail = new AuditTrail([sink], auditAllows: true, NullLogger.Instance);
        var allowed = new AuditEvent
        {
            Time = DateTimeOffset.UnixEpoch,
            DecisionId = "d-1",
            TraceId = "0af7651916cd43dd8448eb211c80319c",
            SpanId = "b7ad6b7169203331",
            Decision = new Decision { Allowed = true, Reason = ReasonCode.Allowed, DestinationSegment = "hr" },
            Reason = ReasonCode.Allowed,
            Method = "GET",
            Path = "/x",
            StatusCode = 200,
            PolicyVersion = "v1",
        };

        trail.Record(allowed);
        trail.Record(allowed with { DecisionId = "d-2", Decision = allowed.Decision with { Allowed = false, Reason = ReasonCode.TokenMissing } });
        trail.RecordRateLimited(new RateLimitedEvent
        {
            DecisionId = "d-3", Start = DateTimeOffset.UnixEpoch, End = DateTimeOffset.UnixEpoch, Count = 2, Segment = "hr", Source = "10.0.0.1",
            PolicyVersion = "v1",
        });
        trail.RecordStateChange(new StateChangeEvent { ChangeId = "c-4", Time = DateTimeOffset.UnixEpoch, Change = StateChangeKind.Hold });

        Assert.Equal(
        [
            new AuditLineInfo("d-1", 4002, "d-1", "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331", Notable: false),
            new AuditLineInfo("d-2", 4002, "d-2", "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331", Notable: true),
            new AuditLineInfo("d-3", 4002, "d-3", null, null, Notable: true),
            new AuditLineInfo("c-4", 3004, null, null, null, Notable: false),
        ], sink.Infos);
        Assert.Equal(4, sink.Lines);
    }

    private sealed class InfoSink : IAuditSink
    {
        public List<AuditLineInfo> Infos { get; } = [];

        public int Lines { get; private set; }

        public string Name => "memory";

        public void Write(ReadOnlySpan<byte> line) => throw new InvalidOperationException("the trail always says what the line is");

        public void Write(ReadOnlySpan<byte> line, in AuditLineInfo info)
        {
            Lines++;
            Infos.Add(info);
        }

        public void Dispose()
        {
        }
    }
}
