using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace ZtGateway.IntegrationTests.Infrastructure;

/// <summary>One span as an OTLP exporter sent it.</summary>
public sealed record ReceivedSpan(string Service, string TraceId, string SpanId, string ParentSpanId, string Name, int Kind,
    IReadOnlyDictionary<string, string> Attributes)
{
    public const int KindServer = 2;
    public const int KindClient = 3;

    public string? Attribute(string key) => Attributes.TryGetValue(key, out var value) ? value : null;
}

/// <summary>One log record as an OTLP exporter sent it.</summary>
public sealed record ReceivedLogRecord(string Service, string Scope, string Body, int SeverityNumber, string TraceId, string SpanId,
    IReadOnlyDictionary<string, string> Attributes)
{
    public const int SeverityInfo = 9;
    public const int SeverityWarn = 13;

    public string? Attribute(string key) => Attributes.TryGetValue(key, out var value) ? value : null;
}

/// <summary>
/// An OTLP trace and log receiver on 127.0.0.1: accepts OTLP/HTTP (<c>POST /v1/traces</c> and <c>/v1/logs</c>,
/// protobuf ExportTraceServiceRequest and ExportLogsServiceRequest) on <see cref="Endpoint"/> and OTLP/gRPC (HTTP/2
/// without TLS) on <see cref="GrpcEndpoint"/>, and keeps every span and log record, decoded with a small wire-format
/// reader.
/// </summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;

    private OtlpReceiver(WebApplication app) => _app = app;

    /// <summary>The OTLP/HTTP base address, as an exporter's endpoint setting takes it.</summary>
    public Uri Endpoint { get; private set; } = null!;

    /// <summary>The OTLP/gRPC address.</summary>
    public Uri GrpcEndpoint { get; private set; } = null!;

    public ConcurrentQueue<ReceivedSpan> Spans { get; } = new();

    public ConcurrentQueue<ReceivedLogRecord> Logs { get; } = new();

    /// <summary>
    /// Starts on free ports, or on the ports of a receiver that was stopped (to bring it back); with
    /// <paramref name="certificate"/>, both listeners are https.
    /// </summary>
    public static async Task<OtlpReceiver> StartAsync(int httpPort = 0, int grpcPort = 0,
        System.Security.Cryptography.X509Certificates.X509Certificate2? certificate = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrelHttpsConfiguration();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(System.Net.IPAddress.Loopback, httpPort, listen =>
            {
                if (certificate is not null)
                {
                    listen.UseHttps(certificate);
                }
            });
            kestrel.Listen(System.Net.IPAddress.Loopback, grpcPort, listen =>
            {
                listen.Protocols = Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http2;
                if (certificate is not null)
                {
                    listen.UseHttps(certificate);
                }
            });
        });
        var app = builder.Build();
        var receiver = new OtlpReceiver(app);
        app.MapPost("/v1/traces", async (HttpContext context) =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            foreach (var span in OtlpTraceDecoder.Decode(body.ToArray()))
            {
                receiver.Spans.Enqueue(span);
            }

            return Results.Bytes([], "application/x-protobuf");
        });

        app.MapPost("/v1/logs", async (HttpContext context) =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            foreach (var record in OtlpLogDecoder.Decode(body.ToArray()))
            {
                receiver.Logs.Enqueue(record);
            }

            return Results.Bytes([], "application/x-protobuf");
        });

        app.MapPost("/opentelemetry.proto.collector.trace.v1.TraceService/Export", (HttpContext context) =>
            GrpcAsync(context, message => OtlpTraceDecoder.Decode(message).ForEach(receiver.Spans.Enqueue)));
        app.MapPost("/opentelemetry.proto.collector.logs.v1.LogsService/Export", (HttpContext context) =>
            GrpcAsync(context, message => OtlpLogDecoder.Decode(message).ForEach(receiver.Logs.Enqueue)));
        await app.StartAsync();
        var addresses = app.Urls.Select(u => new Uri(u)).ToList();
        receiver.Endpoint = addresses[0];
        receiver.GrpcEndpoint = addresses[1];
        return receiver;
    }

    // gRPC: each message is a 5-byte prefix (compressed flag, big-endian length) and the protobuf; the status goes in
    // the trailers.
    private static async Task GrpcAsync(HttpContext context, Action<byte[]> receive)
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body);
        var bytes = body.ToArray();
        for (var offset = 0; offset + 5 <= bytes.Length;)
        {
            var length = (bytes[offset + 1] << 24) | (bytes[offset + 2] << 16) | (bytes[offset + 3] << 8) | bytes[offset + 4];
            receive(bytes[(offset + 5)..(offset + 5 + length)]);
            offset += 5 + length;
        }

        context.Response.ContentType = "application/grpc";
        await context.Response.Body.WriteAsync(new byte[5]);
        context.Response.AppendTrailer("grpc-status", "0");
    }

    /// <summary>Waits (bounded) until the log records received satisfy <paramref name="done"/>; returns them all.</summary>
    public async Task<IReadOnlyList<ReceivedLogRecord>> WaitForLogsAsync(Func<IReadOnlyList<ReceivedLogRecord>, bool> done, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (true)
        {
            var logs = Logs.ToArray();
            if (done(logs) || DateTime.UtcNow > deadline)
            {
                return logs;
            }

            await Task.Delay(100);
        }
    }

    /// <summary>Waits (bounded) until the spans received satisfy <paramref name="done"/>; returns them all.</summary>
    public async Task<IReadOnlyList<ReceivedSpan>> WaitForAsync(Func<IReadOnlyList<ReceivedSpan>, bool> done, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (true)
        {
            var spans = Spans.ToArray();
            if (done(spans) || DateTime.UtcNow > deadline)
            {
                return spans;
            }

            await Task.Delay(100);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>Reads the fields of ExportLogsServiceRequest that the tests look at (opentelemetry/proto/logs/v1).</summary>
public static class OtlpLogDecoder
{
    // ExportLogsServiceRequest { repeated ResourceLogs resource_logs = 1; }
    // ResourceLogs { Resource resource = 1; repeated ScopeLogs scope_logs = 2; }
    // ScopeLogs { InstrumentationScope scope = 1; repeated LogRecord log_records = 2; }
    // LogRecord { fixed64 time_unix_nano = 1; SeverityNumber severity_number = 2; string severity_text = 3; AnyValue body = 5;
    //             repeated KeyValue attributes = 6; fixed32 flags = 8; bytes trace_id = 9; bytes span_id = 10; }
    public static List<ReceivedLogRecord> Decode(byte[] request)
    {
        var records = new List<ReceivedLogRecord>();
        foreach (var (field, resourceLogs) in OtlpTraceDecoder.Fields(request))
        {
            if (field != 1)
            {
                continue;
            }

            var service = string.Empty;
            var scopes = new List<byte[]>();
            foreach (var (f, value) in OtlpTraceDecoder.Fields(resourceLogs))
            {
                if (f == 1)
                {
                    service = OtlpTraceDecoder.Attributes(value, 1).GetValueOrDefault("service.name", string.Empty);
                }
                else if (f == 2)
                {
                    scopes.Add(value);
                }
            }

            foreach (var scope in scopes)
            {
                var scopeName = string.Empty;
                foreach (var (f, value) in OtlpTraceDecoder.Fields(scope))
                {
                    if (f == 1)
                    {
                        // InstrumentationScope { string name = 1; string version = 2; }
                        scopeName = OtlpTraceDecoder.Fields(value).Where(v => v.Field == 1).Select(v => System.Text.Encoding.UTF8.GetString(v.Value)).FirstOrDefault() ?? string.Empty;
                    }
                    else if (f == 2)
                    {
                        records.Add(Record(service, scopeName, value));
                    }
                }
            }
        }

        return records;
    }

    private static ReceivedLogRecord Record(string service, string scope, byte[] record)
    {
        string body = string.Empty, traceId = string.Empty, spanId = string.Empty;
        var severity = 0;
        var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (field, wire, value, number) in OtlpTraceDecoder.RawFields(record))
        {
            switch (field)
            {
                case 2 when wire == 0: severity = (int)number; break;
                case 5: body = OtlpTraceDecoder.AnyValue(value); break;
                case 6:
                    var (key, text) = OtlpTraceDecoder.KeyValue(value);
                    attributes[key] = text;
                    break;
                case 9: traceId = Convert.ToHexStringLower(value); break;
                case 10: spanId = Convert.ToHexStringLower(value); break;
            }
        }

        return new ReceivedLogRecord(service, scope, body, severity, traceId, spanId, attributes);
    }
}

/// <summary>Reads the fields of ExportTraceServiceRequest that the tests look at (opentelemetry/proto/trace/v1).</summary>
public static class OtlpTraceDecoder
{
    public static List<ReceivedSpan> Decode(byte[] request)
    {
        var spans = new List<ReceivedSpan>();
        foreach (var (field, resourceSpans) in Fields(request))
        {
            if (field != 1)
            {
                continue;
            }

            var service = string.Empty;
            var scopeSpans = new List<byte[]>();
            foreach (var (f, value) in Fields(resourceSpans))
            {
                if (f == 1)
                {
                    // Resource { repeated KeyValue attributes = 1; }
                    var attributes = Attributes(value, 1);
                    service = attributes.GetValueOrDefault("service.name", string.Empty);
                }
                else if (f == 2)
                {
                    scopeSpans.Add(value);
                }
            }

            foreach (var scope in scopeSpans)
            {
                foreach (var (f, span) in Fields(scope))
                {
                    if (f == 2)
                    {
                        spans.Add(Span(service, span));
                    }
                }
            }
        }

        return spans;
    }

    private static ReceivedSpan Span(string service, byte[] span)
    {
        string traceId = string.Empty, spanId = string.Empty, parent = string.Empty, name = string.Empty;
        var kind = 0;
        var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (field, wire, value, number) in RawFields(span))
        {
            switch (field)
            {
                case 1: traceId = Convert.ToHexStringLower(value); break;
                case 2: spanId = Convert.ToHexStringLower(value); break;
                case 4: parent = Convert.ToHexStringLower(value); break;
                case 5: name = System.Text.Encoding.UTF8.GetString(value); break;
                case 6 when wire == 0: kind = (int)number; break;
                case 9:
                    var (key, text) = KeyValue(value);
                    attributes[key] = text;
                    break;
            }
        }

        return new ReceivedSpan(service, traceId, spanId, parent, name, kind, attributes);
    }

    internal static Dictionary<string, string> Attributes(byte[] message, int field)
    {
        var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (f, value) in Fields(message))
        {
            if (f == field)
            {
                var (key, text) = KeyValue(value);
                attributes[key] = text;
            }
        }

        return attributes;
    }

    // KeyValue { string key = 1; AnyValue value = 2; }; AnyValue { string_value = 1; bool_value = 2; int_value = 3; double_value = 4; ... }
    internal static (string Key, string Value) KeyValue(byte[] message)
    {
        var key = string.Empty;
        var text = string.Empty;
        foreach (var (field, _, value, _) in RawFields(message))
        {
            if (field == 1)
            {
                key = System.Text.Encoding.UTF8.GetString(value);
            }
            else if (field == 2)
            {
                text = AnyValue(value);
            }
        }

        return (key, text);
    }

    internal static string AnyValue(byte[] message)
    {
        var text = string.Empty;
        foreach (var (f, wire, v, number) in RawFields(message))
        {
            text = f switch
            {
                1 => System.Text.Encoding.UTF8.GetString(v),
                2 => number != 0 ? "true" : "false",
                3 => ((long)number).ToString(CultureInfo.InvariantCulture),
                4 when wire == 1 => BitConverter.Int64BitsToDouble((long)number).ToString(CultureInfo.InvariantCulture),
                _ => text,
            };
        }

        return text;
    }

    internal static IEnumerable<(int Field, byte[] Value)> Fields(byte[] message) =>
        RawFields(message).Where(f => f.Wire == 2).Select(f => (f.Field, f.Value));

    // Protobuf wire format: tag varint (field << 3 | wire type), then a varint (0), 8 bytes (1), a length-prefixed run (2) or 4 bytes (5).
    internal static List<(int Field, int Wire, byte[] Value, ulong Number)> RawFields(byte[] message)
    {
        var fields = new List<(int, int, byte[], ulong)>();
        var position = 0;
        while (position < message.Length)
        {
            var tag = Varint(message, ref position);
            var field = (int)(tag >> 3);
            var wire = (int)(tag & 7);
            switch (wire)
            {
                case 0:
                    fields.Add((field, wire, [], Varint(message, ref position)));
                    break;
                case 1:
                    fields.Add((field, wire, [], BitConverter.ToUInt64(message, position)));
                    position += 8;
                    break;
                case 2:
                    var length = (int)Varint(message, ref position);
                    fields.Add((field, wire, message[position..(position + length)], 0));
                    position += length;
                    break;
                case 5:
                    fields.Add((field, wire, [], BitConverter.ToUInt32(message, position)));
                    position += 4;
                    break;
                default:
                    throw new InvalidDataException($"unsupported protobuf wire type {wire}");
            }
        }

        return fields;
    }

    private static ulong Varint(byte[] message, ref int position)
    {
        ulong value = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = message[position++];
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return value;
            }
        }
    }
}
