using System.Collections;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Logs;
using OpenTelemetry.Resources;
using ZtGateway.Policy.Configuration;

namespace ZtGateway.Audit;

/// <summary>
/// An <c>audit.sinks</c> entry of <c>type: otlp</c>: each audit line becomes an OpenTelemetry log record (the line as
/// its body; <c>ocsf.class_uid</c> and <c>ztgw.decision_id</c> as attributes; the decision's trace and span as its
/// trace context) sent by the OpenTelemetry SDK's OTLP exporter, so that a collector can route audit anywhere.
/// </summary>
/// <remarks>
/// A copy for routing, not the record: <see cref="Write(ReadOnlySpan{byte}, in AuditLineInfo)"/> only hands the
/// record to the SDK's batch processor and never waits, throws or fails a request. At most <c>maxQueue</c> records
/// wait for the collector; past that, and whatever the collector refuses, is dropped and counted in
/// <c>ztgw.audit.otlp.dropped</c> (<c>reason</c>: <c>queue-full</c>, <c>export-failed</c>, <c>closed</c>). The file
/// and stdout sinks still get every line. A collector that stops taking records is one error line when it starts
/// failing and one information line when it takes records again, not one per batch. Disposing sends what is queued
/// within <see cref="ShutdownTimeout"/> and drops the rest.
/// </remarks>
internal sealed partial class OtlpSink : IAuditSink
{
    /// <summary>The instrumentation scope of the records.</summary>
    public const string ScopeName = "ZtGateway.Audit";

    /// <summary>How long disposing waits for the collector to take what is queued.</summary>
    public static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(2);

    internal const string QueueFull = "queue-full";
    internal const string ExportFailed = "export-failed";
    internal const string Closed = "closed";

    private const int ExportTimeoutMilliseconds = 10_000;
    private const int MaxBatch = 512;

    private static readonly Counter<long> Dropped = AuditTrail.Meter.CreateCounter<long>("ztgw.audit.otlp.dropped", "{record}",
        "Audit records an otlp sink did not deliver, by reason: queue-full, export-failed, closed");

    private readonly ILogger _logger;
    private readonly int _maxQueue;
    private readonly X509Certificate2Collection? _roots;
    private readonly IReadOnlyDictionary<string, string> _headers;
    private readonly BatchLogRecordExportProcessor _batch;
    private readonly ILoggerFactory _records;
    private readonly ILogger _emitter;
    private readonly KeyValuePair<string, object?> _sinkTag;
    private readonly Lock _accounting = new();

    // Records handed to the SDK whose export has not returned yet: at most _maxQueue, so the SDK's queue never drops.
    private long _pending;
    private long _droppedWhileFailing;
    private volatile bool _failing;
    private volatile bool _overflowReported;
    private volatile string? _lastProblem;
    private int _closed;
    private bool _settled;

    /// <param name="settings">The sink's entry of <c>audit.sinks</c>.</param>
    /// <param name="serviceName">The resource's <c>service.name</c>.</param>
    /// <param name="logger">Where the sink says that the collector fails and recovers.</param>
    /// <param name="scheduledDelay">How long a record may wait for a batch to fill; one second by default.</param>
    public OtlpSink(OtlpSinkSettings settings, string serviceName, ILogger logger, TimeSpan? scheduledDelay = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(logger);
        Name = settings.Name;
        _logger = logger;
        _maxQueue = settings.MaxQueue;
        _headers = settings.Headers;
        _sinkTag = new("sink", Name);
        _roots = settings.CaFile is null ? null : LoadRoots(settings.CaFile);

        var exporter = new OtlpLogExporter(new OtlpExporterOptions
        {
            Endpoint = ExportEndpoint(settings),
            Protocol = settings.Protocol == OtlpSinkSettings.Grpc ? OtlpExportProtocol.Grpc : OtlpExportProtocol.HttpProtobuf,
            // The headers go on the client (CreateClient): this option's comma-separated, URL-decoded form cannot carry every value.
            Headers = string.Empty,
            TimeoutMilliseconds = ExportTimeoutMilliseconds,
            HttpClientFactory = CreateClient,
        });
        _batch = new BatchLogRecordExportProcessor(new WatchedExporter(exporter, this), _maxQueue,
            (int)(scheduledDelay ?? TimeSpan.FromSeconds(1)).TotalMilliseconds, ExportTimeoutMilliseconds, Math.Min(MaxBatch, _maxQueue));
        _records = LoggerFactory.Create(logging => logging
            .SetMinimumLevel(LogLevel.Information)
            .AddOpenTelemetry(options =>
            {
                options.SetResourceBuilder(ResourceBuilder.CreateDefault().AddService(serviceName));
                options.IncludeScopes = false;
                options.IncludeFormattedMessage = false;
                options.AddProcessor(new TraceContextProcessor());
                options.AddProcessor(_batch);
                options.AddProcessor(new ResourceHolder(exporter));
            }));
        _emitter = _records.CreateLogger(ScopeName);
    }

    public string Name { get; }

    /// <summary>Records handed over and not yet exported (for tests).</summary>
    internal long Pending => Interlocked.Read(ref _pending);

    /// <summary>Whether the collector failed the last export.</summary>
    internal bool Failing => _failing;

    public void Write(ReadOnlySpan<byte> line) => Write(line, default);

    public void Write(ReadOnlySpan<byte> line, in AuditLineInfo info)
    {
        if (Volatile.Read(ref _closed) != 0)
        {
            Drop(1, Closed);
            return;
        }

        if (Interlocked.Increment(ref _pending) > _maxQueue)
        {
            Interlocked.Decrement(ref _pending);
            Drop(1, QueueFull);
            if (!_failing && !_overflowReported)
            {
                _overflowReported = true;
                Log.Overflowing(_logger, Name, _maxQueue);
            }

            return;
        }

        try
        {
            Emit(line, info);
        }
        catch (Exception ex)
        {
            // Never on the request path: the record is lost to this sink only, and counted (once: a close counts what is pending).
            lock (_accounting)
            {
                if (_settled)
                {
                    return;
                }

                Interlocked.Decrement(ref _pending);
            }

            Drop(1, ExportFailed);
            Log.EmitFailed(_logger, Name, info.RecordId, ex);
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
        {
            return;
        }

        // Bounded: the exporter's shutdown then cancels an export still in flight.
        _batch.Shutdown((int)ShutdownTimeout.TotalMilliseconds);
        _records.Dispose();

        // What was not exported by now is lost; an export that returns later is not counted again.
        long lost;
        lock (_accounting)
        {
            _settled = true;
            lost = Interlocked.Exchange(ref _pending, 0);
        }

        if (lost > 0)
        {
            Drop(lost, Closed);
        }
    }

    /// <summary>Where the exporter sends: over http/protobuf a collector's base address gets <c>/v1/logs</c>.</summary>
    internal static Uri ExportEndpoint(OtlpSinkSettings settings)
    {
        var endpoint = new Uri(settings.Endpoint);
        return settings.Protocol == OtlpSinkSettings.HttpProtobuf && endpoint.AbsolutePath == "/"
            ? new Uri(endpoint, "/v1/logs")
            : endpoint;
    }

    private void Emit(ReadOnlySpan<byte> line, in AuditLineInfo info)
    {
        if (line.Length > 0 && line[^1] == (byte)'\n')
        {
            line = line[..^1];
        }

        var (traceId, spanId, flags) = TraceContext(info);
        var record = new AuditRecord(Encoding.UTF8.GetString(line), info.ClassUid, info.DecisionId, traceId, spanId, flags);
        var level = info.Notable ? LogLevel.Warning : LogLevel.Information;

        // The SDK makes no record inside an exporter's call; an audit line is never part of one.
        using var scope = Sdk.SuppressInstrumentation ? SuppressInstrumentationScope.Begin(false) : null;
        _emitter.Log(level, default, record, null, static (r, _) => r.Body);
    }

    // The trace of the line and the gateway's span in it; the current activity gives the flags when it is that trace.
    private static (ActivityTraceId TraceId, ActivitySpanId SpanId, ActivityTraceFlags Flags) TraceContext(in AuditLineInfo info)
    {
        if (info.TraceId is not { Length: 32 } trace || !IsHex(trace))
        {
            return default;
        }

        var traceId = ActivityTraceId.CreateFromString(trace);
        var current = Activity.Current;
        var sameTrace = current is not null && current.TraceId == traceId;
        var spanId = info.SpanId is { Length: 16 } span && IsHex(span)
            ? ActivitySpanId.CreateFromString(span)
            : sameTrace ? current!.SpanId : default;
        return (traceId, spanId, sameTrace ? current!.ActivityTraceFlags : ActivityTraceFlags.None);
    }

    // What ActivityTraceId and ActivitySpanId accept: lower-case hex, not all zeros.
    private static bool IsHex(string text) => text.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f') && text.Any(c => c != '0');

    private void Drop(long count, string reason)
    {
        Dropped.Add(count, _sinkTag, new KeyValuePair<string, object?>("reason", reason));
        if (_failing)
        {
            Interlocked.Add(ref _droppedWhileFailing, count);
        }
    }

    // Called by the batch processor's one worker thread after each export.
    private void Exported(ExportResult result, int count)
    {
        lock (_accounting)
        {
            if (_settled)
            {
                return; // counted as closed
            }

            Interlocked.Add(ref _pending, -count);
        }

        if (result == ExportResult.Success)
        {
            if (_failing)
            {
                _failing = false;
                Log.Recovered(_logger, Name, Interlocked.Exchange(ref _droppedWhileFailing, 0));
            }

            if (_overflowReported && Pending < _maxQueue / 2)
            {
                _overflowReported = false;
            }

            return;
        }

        if (!_failing)
        {
            Interlocked.Exchange(ref _droppedWhileFailing, 0);
            _failing = true;
            Log.Failing(_logger, Name, _lastProblem ?? "the collector did not accept the export");
        }

        Drop(count, ExportFailed);
    }

    private HttpClient CreateClient()
    {
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromSeconds(5),
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
        };
        if (_roots is { } roots)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, chain, errors) => IsTrusted(certificate, chain, errors, roots);
        }

        var client = new HttpClient(new Transport(handler, this)) { Timeout = TimeSpan.FromMilliseconds(ExportTimeoutMilliseconds) };
        foreach (var (name, value) in _headers)
        {
            client.DefaultRequestHeaders.TryAddWithoutValidation(name, value);
        }

        return client;
    }

    private static X509Certificate2Collection LoadRoots(string path)
    {
        var roots = new X509Certificate2Collection();
        roots.ImportFromPemFile(path);
        return roots.Count > 0 ? roots : throw new CryptographicException($"ca '{path}' holds no PEM certificate");
    }

    // The collector's chain must end at one of the configured authorities, and its name must match the endpoint's host.
    private static bool IsTrusted(X509Certificate? certificate, X509Chain? presented, SslPolicyErrors errors, X509Certificate2Collection roots)
    {
        if (certificate is null || (errors & (SslPolicyErrors.RemoteCertificateNotAvailable | SslPolicyErrors.RemoteCertificateNameMismatch)) != 0)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (presented is not null)
        {
            foreach (var element in presented.ChainElements)
            {
                chain.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        return certificate is X509Certificate2 full
            ? chain.Build(full)
            : chain.Build(X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()));
    }

    private static string Describe(Exception exception)
    {
        var innermost = exception;
        while (innermost.InnerException is { } inner)
        {
            innermost = inner;
        }

        return ReferenceEquals(innermost, exception) || exception.Message.Contains(innermost.Message, StringComparison.Ordinal)
            ? exception.Message
            : $"{exception.Message} {innermost.Message}";
    }

    /// <summary>The state of one record: its attributes, and the body and trace context the processors take from it.</summary>
    private sealed class AuditRecord(string body, int classUid, string? decisionId, ActivityTraceId traceId, ActivitySpanId spanId,
        ActivityTraceFlags flags) : IReadOnlyList<KeyValuePair<string, object?>>
    {
        public string Body { get; } = body;

        public ActivityTraceId TraceId { get; } = traceId;

        public ActivitySpanId SpanId { get; } = spanId;

        public ActivityTraceFlags Flags { get; } = flags;

        public int Count => decisionId is null ? 1 : 2;

        public KeyValuePair<string, object?> this[int index] => index switch
        {
            0 => new("ocsf.class_uid", classUid),
            1 when decisionId is not null => new("ztgw.decision_id", decisionId),
            _ => throw new ArgumentOutOfRangeException(nameof(index)),
        };

        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
        {
            for (var i = 0; i < Count; i++)
            {
                yield return this[i];
            }
        }

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }

    /// <summary>Gives each record the trace context of its line rather than that of the thread that wrote it.</summary>
    private sealed class TraceContextProcessor : BaseProcessor<LogRecord>
    {
        public override void OnEnd(LogRecord data)
        {
            if (data.Attributes is AuditRecord record)
            {
                data.TraceId = record.TraceId;
                data.SpanId = record.SpanId;
                data.TraceFlags = record.Flags;
                data.TraceState = null;
            }
        }
    }

    /// <summary>
    /// Registers the exporter with the provider, so that it takes the provider's resource (<c>service.name</c>) and is
    /// shut down with it, without sending it anything: records reach it through the batch processor and
    /// <see cref="WatchedExporter"/>.
    /// </summary>
    private sealed class ResourceHolder(BaseExporter<LogRecord> exporter) : SimpleLogRecordExportProcessor(exporter)
    {
        public override void OnEnd(LogRecord data)
        {
        }
    }

    /// <summary>Sees the result of every export: what the collector refused is counted, a change of health logged.</summary>
    private sealed class WatchedExporter(BaseExporter<LogRecord> inner, OtlpSink sink) : BaseExporter<LogRecord>
    {
        public override ExportResult Export(in Batch<LogRecord> batch)
        {
            var count = (int)batch.Count;
            sink._lastProblem = null;
            var result = ExportResult.Failure;
            try
            {
                result = inner.Export(batch);
            }
            catch (Exception ex)
            {
                sink._lastProblem = Describe(ex);
            }

            sink.Exported(result, count);
            return result;
        }
    }

    /// <summary>Remembers why the last request to the collector failed, for the log line that says it fails.</summary>
    private sealed class Transport(HttpMessageHandler inner, OtlpSink sink) : DelegatingHandler(inner)
    {
        protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            try
            {
                return Seen(base.Send(request, cancellationToken));
            }
            catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or IOException)
            {
                sink._lastProblem = Describe(ex);
                throw;
            }
        }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            try
            {
                return Seen(await base.SendAsync(request, cancellationToken));
            }
            catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or IOException)
            {
                sink._lastProblem = Describe(ex);
                throw;
            }
        }

        private HttpResponseMessage Seen(HttpResponseMessage response)
        {
            if (!response.IsSuccessStatusCode)
            {
                sink._lastProblem = $"the collector answered {(int)response.StatusCode} {response.ReasonPhrase}";
            }
            else if (response.Headers.TryGetValues("grpc-status", out var status) && status.FirstOrDefault() is { } code && code != "0")
            {
                var message = response.Headers.TryGetValues("grpc-message", out var text) ? text.FirstOrDefault() : null;
                sink._lastProblem = $"the collector answered gRPC status {code}{(message is null ? string.Empty : ": " + message)}";
            }

            return response;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 520, Level = LogLevel.Error,
            Message = "AUDIT SINK {Sink} IS FAILING ({Problem}): its records are dropped until the collector takes them again; the other sinks keep every line")]
        public static partial void Failing(ILogger logger, string sink, string problem);

        [LoggerMessage(EventId = 521, Level = LogLevel.Information,
            Message = "Audit sink {Sink} recovered: the collector takes records again ({Dropped} records were dropped while it failed)")]
        public static partial void Recovered(ILogger logger, string sink, long dropped);

        [LoggerMessage(EventId = 522, Level = LogLevel.Warning,
            Message = "Audit sink {Sink} is dropping records: {MaxQueue} records already wait for the collector")]
        public static partial void Overflowing(ILogger logger, string sink, int maxQueue);

        [LoggerMessage(EventId = 523, Level = LogLevel.Error, Message = "Audit sink {Sink} could not queue record {RecordId}; it is dropped")]
        public static partial void EmitFailed(ILogger logger, string sink, string recordId, Exception exception);
    }
}
