using System.Diagnostics.Metrics;
using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Engine;

namespace ZtGateway.Audit;

/// <summary>One destination of audit lines.</summary>
internal interface IAuditSink : IDisposable
{
    string Name { get; }

    /// <summary>Writes whole lines (one, or many from the spool; each ends in a line feed) in one write; throws when it cannot.</summary>
    void Write(ReadOnlySpan<byte> line);

    /// <summary>Writes one complete line about what <paramref name="info"/> says; sinks that only store lines ignore it.</summary>
    void Write(ReadOnlySpan<byte> line, in AuditLineInfo info) => Write(line);
}

/// <summary>
/// What a sink may want to know about a line without parsing it: its OCSF class, its ids and the trace it belongs to.
/// </summary>
/// <param name="RecordId">The line's <c>metadata.uid</c> (a decision, finding or change id).</param>
/// <param name="ClassUid">The OCSF <c>class_uid</c>.</param>
/// <param name="DecisionId">The decision the line is about; null for a change of continuous evaluation.</param>
/// <param name="TraceId">The W3C trace id (32 hex digits) of the decision; null when the line names no trace.</param>
/// <param name="SpanId">The span (16 hex digits) of the gateway in that trace; null when not known.</param>
/// <param name="Notable">True for a refusal or a finding, false for an allowed request or a change.</param>
internal readonly record struct AuditLineInfo(string RecordId, int ClassUid, string? DecisionId, string? TraceId, string? SpanId, bool Notable);

/// <summary>
/// Writes every decision to every configured sink before the response is sent. With a spool (as the gateway always
/// runs), a line for the <c>stdout</c> and <c>file:</c> sinks is committed to the crash-safe <see cref="AuditSpool"/>,
/// whose writer hands it to them; <c>otlp</c> sinks, outside the promise, are handed each line directly (they only
/// queue). A sink that fails does not stop the gateway: the failure is counted (<c>ztgw.audit.failures</c>), logged as
/// an error, and the line itself goes to standard error so that it is never lost silently.
/// </summary>
internal sealed partial class AuditTrail : IAuditSpoolTarget, IDisposable
{
    /// <summary>The name of the process-wide meter of audit failures (<c>ztgw.audit.failures</c>).</summary>
    public const string MeterName = "ZtGateway.Audit";

    /// <summary>The meter of <c>ztgw.audit.*</c>; <see cref="OtlpSink"/> counts on it too.</summary>
    internal static readonly Meter Meter = new(MeterName);
    private static readonly Counter<long> Failures = Meter.CreateCounter<long>("ztgw.audit.failures", description: "Audit lines a sink could not write");

    private readonly IAuditSink[] _sinks;
    private readonly IAuditSink[] _durable;
    private readonly IAuditSink[] _copies;
    private readonly AuditSpool? _spool;
    private readonly ushort _spoolSet;
    private readonly ILogger _logger;
    private int _disposed;

    /// <param name="settings">The <c>audit:</c> section.</param>
    /// <param name="spool">
    /// The spool of the process; the trail registers its <c>stdout</c> and <c>file:</c> sinks with it. The gateway always
    /// passes one; null (tests) writes each line to each sink on the caller's thread.
    /// </param>
    /// <param name="logger">Where sink failures are reported.</param>
    /// <param name="serviceName">The <c>service.name</c> of the records an <c>otlp</c> sink sends (<c>telemetry.serviceName</c>).</param>
    public AuditTrail(AuditSettings settings, AuditSpool? spool, ILogger logger, string serviceName = "ztgw")
    {
        ArgumentNullException.ThrowIfNull(settings);
        _logger = logger;
        AuditAllows = settings.Allows;
        _durable = [.. settings.Sinks.Select(CreateSink)];
        _copies = [.. settings.OtlpSinks.Select(s => CreateOtlpSink(s, serviceName))];
        _sinks = [.. _durable, .. _copies];
        _spool = spool;
        _spoolSet = spool?.Register(this) ?? 0;
    }

    /// <summary>A trail without a spool: each line is one write to each sink, on the caller's thread (tests).</summary>
    internal AuditTrail(AuditSettings settings, ILogger logger, string serviceName = "ztgw")
        : this(settings, spool: null, logger, serviceName)
    {
    }

    /// <summary>A trail of given sinks without a spool (tests).</summary>
    internal AuditTrail(IEnumerable<IAuditSink> sinks, bool auditAllows, ILogger logger)
        : this(sinks, [], auditAllows, logger, spool: null)
    {
    }

    /// <summary>A trail of given durable sinks and copies, through <paramref name="spool"/> when there is one (tests).</summary>
    internal AuditTrail(IEnumerable<IAuditSink> durable, IEnumerable<IAuditSink> copies, bool auditAllows, ILogger logger, AuditSpool? spool)
    {
        _logger = logger;
        AuditAllows = auditAllows;
        _durable = [.. durable];
        _copies = [.. copies];
        _sinks = [.. _durable, .. _copies];
        _spool = spool;
        _spoolSet = spool?.Register(this) ?? 0;
    }

    public bool AuditAllows { get; }

    public void Record(AuditEvent auditEvent)
    {
        if (!AuditAllows && auditEvent.Decision.Allowed && auditEvent.Reason == ReasonCode.Allowed)
        {
            return;
        }

        var line = AuditLine.Rent();
        try
        {
            Write(HttpActivityTemplates.Render(auditEvent, line), new AuditLineInfo(auditEvent.DecisionId, OcsfWriter.HttpActivityClass, auditEvent.DecisionId,
                auditEvent.TraceId, auditEvent.SpanId, Notable: !auditEvent.Decision.Allowed));
        }
        finally
        {
            AuditLine.Return(line);
        }
    }

    /// <summary>
    /// Writes the aggregated line of one source's rate-limited requests within one window (OCSF HTTP Activity with
    /// <c>count</c>, <c>start_time</c> and <c>end_time</c>) to every sink. Unlike a decision's line it is written
    /// once the window is over, after its answers went out: that is what keeps a flood from filling the disk.
    /// </summary>
    public void RecordRateLimited(RateLimitedEvent window) =>
        Write(OcsfWriter.RateLimited(window),
            new AuditLineInfo(window.DecisionId, OcsfWriter.HttpActivityClass, window.DecisionId, TraceId: null, SpanId: null, Notable: true));

    /// <summary>
    /// Writes the ending of an open exchange whose decision no longer holds (OCSF HTTP Activity, disposition
    /// <c>Access Revoked</c>) to every sink, whatever <c>audit.allows</c> says.
    /// </summary>
    public void RecordExchangeEnded(ExchangeEndedEvent ended) =>
        Write(OcsfWriter.ExchangeEnded(ended),
            new AuditLineInfo(ended.EndingId, OcsfWriter.HttpActivityClass, ended.DecisionId, ended.TraceId.Length > 0 ? ended.TraceId : null,
                SpanId: null, Notable: true));

    /// <summary>Writes a lateral-movement finding (OCSF Detection Finding) to every sink.</summary>
    public void RecordFinding(FindingEvent finding) =>
        Write(OcsfWriter.DetectionFinding(finding),
            new AuditLineInfo(finding.Id, OcsfWriter.DetectionFindingClass, finding.DecisionId, finding.TraceId, SpanId: null, Notable: true));

    /// <summary>Writes a change of revocations or quarantines (OCSF Entity Management) to every sink.</summary>
    public void RecordStateChange(StateChangeEvent change) =>
        Write(OcsfWriter.StateChange(change),
            new AuditLineInfo(change.ChangeId, OcsfWriter.EntityManagementClass, DecisionId: null, TraceId: null, SpanId: null, Notable: false));

    /// <summary>Writes the policy a start put in force, or a reload applied or refused (OCSF Entity Management), to every sink.</summary>
    public void RecordPolicyChange(PolicyChangeEvent change) =>
        Write(OcsfWriter.PolicyChange(change),
            new AuditLineInfo(change.ChangeId, OcsfWriter.EntityManagementClass, DecisionId: null, TraceId: null, SpanId: null, Notable: false));

    /// <summary>
    /// Writes a browser sign-in, a refused sign-in callback or a sign-out (OCSF Authentication) to every sink, whatever
    /// <c>audit.allows</c> says.
    /// </summary>
    public void RecordAuthentication(AuthenticationEvent authentication) =>
        Write(OcsfWriter.Authentication(authentication),
            new AuditLineInfo(authentication.Id, OcsfWriter.AuthenticationClass, authentication.DecisionId,
                authentication.TraceId is { Length: > 0 } traceId ? traceId : null, authentication.SpanId, Notable: authentication.Kind == AuthenticationKind.SignInRefused));

    /// <summary>
    /// Writes lines the spool's writer (or recovery at start) hands over to every durable sink, one write each; a sink
    /// that fails gets the usual handling for every line.
    /// </summary>
    void IAuditSpoolTarget.Deliver(ReadOnlySpan<byte> lines, int count)
    {
        foreach (var sink in _durable)
        {
            try
            {
                sink.Write(lines);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ObjectDisposedException)
            {
                Failures.Add(count, new KeyValuePair<string, object?>("sink", sink.Name));
                Log.SinkFailedLines(_logger, sink.Name, count, ex);
                ToStandardError(lines);
            }
        }
    }

    /// <summary>
    /// Lines the spool could not hand to any trail (theirs was closed, or its sinks threw what no sink should): counted,
    /// logged and written to standard error, like a sink's failure.
    /// </summary>
    internal static void Undeliverable(ReadOnlySpan<byte> lines, int count, string reason, ILogger logger, Exception? exception)
    {
        Failures.Add(count, new KeyValuePair<string, object?>("sink", "spool"));
        Log.SpoolUndeliverable(logger, count, reason, exception);
        ToStandardError(lines);
    }

    private void Write(ReadOnlySpan<byte> line, in AuditLineInfo info)
    {
        if (_spool is null || !_spool.TryAppend(_spoolSet, line))
        {
            // No spool, a line longer than a spool record, or a spool already closed: the line is written here, after
            // every line committed before it, so that the trail keeps its order.
            _spool?.Flush();
            foreach (var sink in _durable)
            {
                WriteTo(sink, line, info);
            }
        }

        foreach (var sink in _copies)
        {
            WriteTo(sink, line, info);
        }
    }

    private void WriteTo(IAuditSink sink, ReadOnlySpan<byte> line, in AuditLineInfo info)
    {
        try
        {
            sink.Write(line, info);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            Failures.Add(1, new KeyValuePair<string, object?>("sink", sink.Name));
            Log.SinkFailed(_logger, sink.Name, info.RecordId, ex);
            ToStandardError(line);
        }
    }

    // Each line prefixed AUDIT-UNDELIVERED, so that it can be told from a log line and taken back.
    private static void ToStandardError(ReadOnlySpan<byte> lines)
    {
        try
        {
            using var stderr = Console.OpenStandardError();
            while (!lines.IsEmpty)
            {
                var end = lines.IndexOf((byte)'\n');
                var line = end < 0 ? lines : lines[..(end + 1)];
                stderr.Write("AUDIT-UNDELIVERED "u8);
                stderr.Write(line);
                lines = lines[line.Length..];
            }
        }
        catch (IOException)
        {
        }
    }

    private IAuditSink CreateSink(string spec)
    {
        if (spec == "stdout")
        {
            return new StreamSink("stdout", Console.OpenStandardOutput());
        }

        var path = spec["file:".Length..];
        try
        {
            return FileSink.Open(path, _logger);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Keep serving; every line for this sink will be counted as a failure and go to stderr.
            Log.SinkUnavailable(_logger, spec, ex);
            return new BrokenSink(spec, ex.Message);
        }
    }

    private IAuditSink CreateOtlpSink(OtlpSinkSettings settings, string serviceName)
    {
        try
        {
            return new OtlpSink(settings, serviceName, _logger);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException
            or ArgumentException or NotSupportedException)
        {
            // The CA file changed since the policy was loaded: like a file that cannot be opened.
            Log.SinkUnavailable(_logger, settings.Name, ex);
            return new BrokenSink(settings.Name, ex.Message);
        }
    }

    /// <summary>Hands the sinks every line committed so far, leaves the spool, then closes the sinks.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        if (_spool is not null)
        {
            _spool.Flush();
            _spool.Unregister(_spoolSet);
        }

        foreach (var sink in _sinks)
        {
            sink.Dispose();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 500, Level = LogLevel.Error, Message = "AUDIT SINK {Sink} FAILED for record {DecisionId}; the line went to stderr")]
        public static partial void SinkFailed(ILogger logger, string sink, string decisionId, Exception exception);

        [LoggerMessage(EventId = 501, Level = LogLevel.Error, Message = "AUDIT SINK {Sink} CANNOT BE OPENED; its lines will go to stderr")]
        public static partial void SinkUnavailable(ILogger logger, string sink, Exception exception);

        [LoggerMessage(EventId = 502, Level = LogLevel.Error, Message = "AUDIT SINK {Sink} FAILED for {Count} line(s); they went to stderr")]
        public static partial void SinkFailedLines(ILogger logger, string sink, int count, Exception exception);

        [LoggerMessage(EventId = 503, Level = LogLevel.Error, Message = "AUDIT SPOOL could not deliver {Count} line(s) ({Reason}); they went to stderr")]
        public static partial void SpoolUndeliverable(ILogger logger, int count, string reason, Exception? exception);
    }
}

/// <summary>
/// Standard output: writes serialized and flushed, each at most <see cref="AtomicBytes"/> of whole lines (a longer line
/// alone), so that on a pipe no other writer's bytes can land inside a line.
/// </summary>
internal sealed class StreamSink(string name, Stream stream) : IAuditSink
{
    /// <summary>PIPE_BUF on Linux: a write to a pipe of at most this many bytes is never interleaved with another.</summary>
    public const int AtomicBytes = 4096;

    private readonly Lock _lock = new();

    public string Name { get; } = name;

    public void Write(ReadOnlySpan<byte> line)
    {
        lock (_lock)
        {
            var lines = line;
            while (!lines.IsEmpty)
            {
                var chunk = Chunk(lines);
                stream.Write(lines[..chunk]);
                lines = lines[chunk..];
            }

            stream.Flush();

            int Chunk(ReadOnlySpan<byte> rest)
            {
                if (rest.Length <= AtomicBytes)
                {
                    return rest.Length;
                }

                // The end of the last line that fits, or of the first line when it alone is longer.
                var end = rest[..AtomicBytes].LastIndexOf((byte)'\n');
                if (end < 0)
                {
                    end = rest.IndexOf((byte)'\n');
                }

                return end < 0 ? rest.Length : end + 1;
            }
        }
    }

    // Standard output belongs to the process, not to the sink.
    public void Dispose()
    {
    }
}

/// <summary>A sink that could not be opened: every write fails, so every line is counted and rerouted.</summary>
internal sealed class BrokenSink(string name, string error) : IAuditSink
{
    public string Name { get; } = name;

    public void Write(ReadOnlySpan<byte> line) => throw new IOException($"{Name} is unavailable: {error}");

    public void Dispose()
    {
    }
}
