using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using ZtGateway.IntegrationTests.Infrastructure;

namespace ZtGateway.IntegrationTests.Audit;

/// <summary>
/// An <c>otlp</c> audit sink beside a file sink: a real OTLP receiver on loopback gets, as log records, exactly the
/// lines the file got, each in the trace of its request; with the receiver stopped, requests answer as before, the
/// file still gets every line, and the loss is one error line and a count in <c>ztgw.audit.otlp.dropped</c>.
/// </summary>
public sealed class OtlpSinkTests : IAsyncDisposable
{
    private readonly TestIdentity _identity = new();
    private readonly ListLoggerProvider _logs = new();
    private readonly ConcurrentDictionary<string, long> _dropped = new();
    private readonly MeterListener _meters = new();
    private ILoggerFactory? _loggerFactory;
    private EchoUpstream? _ledger;
    private OtlpReceiver? _receiver;
    private TestGateway? _gateway;
    private string _sink = string.Empty;

    public OtlpSinkTests()
    {
        _meters.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "ZtGateway.Audit" && instrument.Name == "ztgw.audit.otlp.dropped")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _meters.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            string? sink = null, reason = null;
            foreach (var tag in tags)
            {
                if (tag.Key == "sink")
                {
                    sink = tag.Value as string;
                }
                else if (tag.Key == "reason")
                {
                    reason = tag.Value as string;
                }
            }

            if (sink == _sink && reason is not null)
            {
                _dropped.AddOrUpdate(reason, value, (_, total) => total + value);
            }
        });
        _meters.Start();
    }

    // The records of requests: the policy the start put in force is a record too, of every sink alike.
    private static List<ReceivedLogRecord> Requests(IReadOnlyList<ReceivedLogRecord> records) =>
        [.. records.Where(r => !AuditLines.IsPolicyChange(r.Body))];

    [Theory]
    [InlineData("http/protobuf")]
    [InlineData("grpc")]
    public async Task TheReceiver_GetsEveryLineOfTheFileSink_InTheTraceOfItsRequest(string protocol)
    {
        await StartAsync(protocol);
        var sent = await SendMixAsync(count: 2);

        var lines = await AuditLines.ReadWithoutPolicyChangesAsync(_gateway!.AuditFile);
        Assert.Equal(sent.Count, lines.Length);
        var all = await _receiver!.WaitForLogsAsync(r => Requests(r).Count >= lines.Length);
        var records = Requests(all);

        // The policy line of the start went to the collector as well as to the file.
        Assert.Equal(AuditLines.PolicyChanges(_gateway.AuditFile).Count, all.Count(r => AuditLines.IsPolicyChange(r.Body)));

        Assert.Equal(lines.Length, records.Count);
        for (var i = 0; i < lines.Length; i++)
        {
            using var line = JsonDocument.Parse(lines[i]);
            var decisionId = line.RootElement.GetProperty("metadata").GetProperty("uid").GetString()!;
            var traceId = line.RootElement.GetProperty("trace").GetProperty("uid").GetString();
            // Lines are in the order their decisions were made, which a loaded machine need not keep for requests sent one after another.
            var request = Assert.Single(sent, r => r.TraceId == traceId);

            var record = Assert.Single(records, r => r.Attribute("ztgw.decision_id") == decisionId);
            Assert.Equal(lines[i], record.Body);
            Assert.Equal("4002", record.Attribute("ocsf.class_uid"));
            Assert.Equal(traceId, record.TraceId);
            Assert.Matches("^[0-9a-f]{16}$", record.SpanId);
            Assert.NotEqual("0000000000000000", record.SpanId);
            Assert.Equal(request.Allowed ? ReceivedLogRecord.SeverityInfo : ReceivedLogRecord.SeverityWarn, record.SeverityNumber);
            Assert.Equal("ztgw", record.Service);
            Assert.Equal("ZtGateway.Audit", record.Scope);
        }

        Assert.DoesNotContain(_logs.Lines, l => l.Contains("IS FAILING", StringComparison.Ordinal));
        Assert.Empty(_dropped);
    }

    [Fact]
    public async Task WithTheReceiverStopped_RequestsAreUnaffected_TheFileHasEveryLine_AndTheLossIsOneErrorLineAndAMetric()
    {
        await StartAsync("http/protobuf");
        var before = await SendMixAsync(count: 1);
        Assert.Equal(before.Count, (Requests(await _receiver!.WaitForLogsAsync(r => Requests(r).Count >= before.Count))).Count);
        var (httpPort, grpcPort) = (_receiver.Endpoint.Port, _receiver.GrpcEndpoint.Port);
        await _receiver.DisposeAsync();
        _receiver = null;

        var watch = Stopwatch.StartNew();
        var during = await SendMixAsync(count: 5);
        var slowest = during.Max(r => r.Elapsed);

        // Answered as when the collector was up: same statuses, no wait on the dead collector.
        Assert.Equal(Enumerable.Repeat(before.Select(r => r.Status), 5).SelectMany(s => s), during.Select(r => r.Status));
        Assert.True(slowest < TimeSpan.FromSeconds(2), $"slowest request took {slowest}");
        Assert.Equal(before.Count + during.Count, (await AuditLines.ReadWithoutPolicyChangesAsync(_gateway!.AuditFile)).Length);

        // Every record written after the stop is counted once the exports have failed.
        await WaitUntilAsync(() => Dropped("export-failed") >= during.Count);
        Assert.Equal(during.Count, Dropped("export-failed"));

        // More failed exports, still one line.
        var later = await SendMixAsync(count: 1);
        await WaitUntilAsync(() => Dropped("export-failed") >= during.Count + later.Count);
        Assert.Equal(during.Count + later.Count, Dropped("export-failed"));
        Assert.Equal(before.Count + during.Count + later.Count, (await AuditLines.ReadWithoutPolicyChangesAsync(_gateway.AuditFile)).Length);
        var failing = Assert.Single(_logs.Lines, l => l.Contains("IS FAILING", StringComparison.Ordinal));
        Assert.StartsWith($"Error ZtGateway.Audit: AUDIT SINK {_sink} IS FAILING (", failing, StringComparison.Ordinal);
        Assert.DoesNotContain(_logs.Lines, l => l.Contains("recovered", StringComparison.Ordinal));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(60));

        // The collector back on its address: records flow again, and that is one line too.
        _receiver = await OtlpReceiver.StartAsync(httpPort, grpcPort);
        var after = await SendMixAsync(count: 1);
        var records = Requests(await _receiver.WaitForLogsAsync(r => Requests(r).Count >= after.Count));
        Assert.Equal(after.Select(r => r.TraceId), records.Select(r => r.TraceId));
        await WaitUntilAsync(() => _logs.Lines.Any(l => l.Contains("recovered", StringComparison.Ordinal)));
        var recovered = Assert.Single(_logs.Lines, l => l.Contains("recovered", StringComparison.Ordinal));
        Assert.Equal(
            $"Information ZtGateway.Audit: Audit sink {_sink} recovered: the collector takes records again ({during.Count + later.Count} records were dropped while it failed)",
            recovered);
        Assert.Single(_logs.Lines, l => l.Contains("IS FAILING", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AnHttpsCollector_IsVerifiedWithTheConfiguredCa()
    {
        var (server, caPem) = CollectorCertificates();
        var caFile = Path.Combine(Path.GetTempPath(), "ztgw-ca-" + Guid.NewGuid().ToString("N") + ".pem");
        await File.WriteAllTextAsync(caFile, caPem);
        try
        {
            await StartAsync("http/protobuf", server, caFile);
            Assert.StartsWith("otlp:https://127.0.0.1:", _sink, StringComparison.Ordinal);

            var sent = await SendMixAsync(count: 1);
            var records = Requests(await _receiver!.WaitForLogsAsync(r => Requests(r).Count >= sent.Count));

            Assert.Equal(sent.Select(r => r.TraceId).Order(), records.Select(r => r.TraceId).Order());
            Assert.DoesNotContain(_logs.Lines, l => l.Contains("IS FAILING", StringComparison.Ordinal));
        }
        finally
        {
            File.Delete(caFile);
            server.Dispose();
        }
    }

    [Fact]
    public async Task AnHttpsCollector_ThatNothingConfiguredTrusts_IsAFailingSink_NotAFailingRequest()
    {
        var (server, _) = CollectorCertificates();
        using (server)
        {
            await StartAsync("http/protobuf", server);

            var sent = await SendMixAsync(count: 1);
            // Every line the file got, the start's policy line included, is dropped by the sink that cannot reach its collector.
            var written = (await File.ReadAllLinesAsync(_gateway!.AuditFile)).Length;
            await WaitUntilAsync(() => Dropped("export-failed") >= written);

            // SendMixAsync asserted every answer: allowed requests 200, the others refused.
            Assert.Equal(sent.Count, (await AuditLines.ReadWithoutPolicyChangesAsync(_gateway!.AuditFile)).Length);
            Assert.Empty(_receiver!.Logs);
            Assert.Equal(written, Dropped("export-failed"));
            var failing = Assert.Single(_logs.Lines, l => l.Contains("IS FAILING", StringComparison.Ordinal));
            Assert.Contains("SSL", failing, StringComparison.Ordinal);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_gateway is not null)
        {
            await _gateway.DisposeAsync();
        }

        if (_receiver is not null)
        {
            await _receiver.DisposeAsync();
        }

        if (_ledger is not null)
        {
            await _ledger.DisposeAsync();
        }

        _meters.Dispose();
        _loggerFactory?.Dispose();
        _identity.Dispose();
    }

    private async Task StartAsync(string protocol, X509Certificate2? certificate = null, string? caFile = null)
    {
        _ledger = await EchoUpstream.StartAsync("ledger");
        _receiver = await OtlpReceiver.StartAsync(certificate: certificate);
        var endpoint = (protocol == "grpc" ? _receiver.GrpcEndpoint : _receiver.Endpoint).ToString().TrimEnd('/');
        _sink = "otlp:" + endpoint;
        var ca = caFile is null ? string.Empty : $", ca: \"{caFile}\"";
        var yaml = TestGateway.DefaultGatewayYaml.Replace(
            "  sinks: [\"file:audit/decisions.jsonl\"]",
            $"  sinks:\n    - file:audit/decisions.jsonl\n    - {{ type: otlp, endpoint: \"{endpoint}\", protocol: {protocol}{ca} }}",
            StringComparison.Ordinal);
        Assert.Contains("type: otlp", yaml, StringComparison.Ordinal);
        _loggerFactory = LoggerFactory.Create(l => l.SetMinimumLevel(LogLevel.Information).AddProvider(_logs));
        _gateway = await TestGateway.StartAsync(_identity, Topology.Standard(_ledger.Url, _ledger.Url, DateTimeOffset.UtcNow.AddDays(1)), yaml,
            configure: options => options with { LoggerFactory = _loggerFactory });
    }

    // Allowed and refused requests, each in a trace of its own named by its traceparent.
    private async Task<List<Sent>> SendMixAsync(int count)
    {
        using var finance = _gateway!.Client("finance");
        var good = _identity.User(_gateway.Time.GetUtcNow(), "alice", ["finance-staff"]);
        var sent = new List<Sent>();
        for (var i = 0; i < count; i++)
        {
            foreach (var (path, token, allowed) in new (string, string?, bool)[]
            {
                ("/ledger/1", good, true),
                ("/ledger/2", null, false),
                ("/ledger/3", "garbage", false),
                ("/nowhere", good, false),
            })
            {
                var traceId = ActivityTraceId.CreateRandom().ToHexString();
                var traceparent = $"00-{traceId}-{ActivitySpanId.CreateRandom().ToHexString()}-01";
                var watch = Stopwatch.StartNew();
                var answer = await Problem.SendAsync(finance, HttpMethod.Get, path, token,
                    request => request.Headers.TryAddWithoutValidation("traceparent", traceparent));
                sent.Add(new Sent(traceId, allowed, answer.Status, watch.Elapsed));
                Assert.Equal(allowed, answer.Status == HttpStatusCode.OK);
            }
        }

        return sent;
    }

    private long Dropped(string reason) => _dropped.GetValueOrDefault(reason);

    // A certificate authority made for the test, and a server certificate for 127.0.0.1 that it issued.
    private static (X509Certificate2 Server, string CaPem) CollectorCertificates()
    {
        var now = DateTimeOffset.UtcNow;
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=ztgw test collector CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        using var ca = caRequest.CreateSelfSigned(now.AddHours(-1), now.AddDays(1));

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var issued = request.Create(ca, now.AddHours(-1), now.AddDays(1), RandomNumberGenerator.GetBytes(8));
        using var withKey = issued.CopyWithPrivateKey(key);
        return (X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null), ca.ExportCertificatePem());
    }

    private static async Task WaitUntilAsync(Func<bool> done)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!done() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }
    }

    private sealed record Sent(string TraceId, bool Allowed, HttpStatusCode Status, TimeSpan Elapsed);

    /// <summary>Keeps log lines (level, category, message) so a test can see what the gateway reported.</summary>
    private sealed class ListLoggerProvider : ILoggerProvider
    {
        private readonly ConcurrentQueue<string> _lines = new();

        public IReadOnlyList<string> Lines => [.. _lines];

        public ILogger CreateLogger(string categoryName) => new ListLogger(categoryName, this);

        public void Dispose()
        {
        }

        private sealed class ListLogger(string category, ListLoggerProvider provider) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                provider._lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)}");
        }
    }
}
