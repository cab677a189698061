using System.Net;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using ZtGateway.Audit;
using ZtGateway.Policy.Engine;

namespace ZtGateway.Benchmarks;

/// <summary>
/// What the request path pays to record one typical decision line (about 1 KB): committing it to the audit spool
/// (decision 0007) against one <c>write(2)</c> of it to a <c>file:</c> sink, as before the spool. The spool's writer
/// runs meanwhile: into a sink that keeps nothing (the append alone), and into a real file in the temp folder (the
/// append while the writer competes for the machine; once the file cannot keep up, appends wait for it).
/// </summary>
[MemoryDiagnoser]
public class AuditSpoolBenchmarks
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "ztgw-bench-spool-" + Guid.NewGuid().ToString("N")[..8]);
    private byte[] _line = [];
    private AuditSpool _discardingSpool = null!;
    private AuditSpool _fileSpool = null!;
    private AuditTrail _discarding = null!;
    private AuditTrail _toFile = null!;
    private ushort _discardingSet;
    private ushort _fileSet;
    private FileSink _direct = null!;

    [GlobalSetup]
    public void Setup()
    {
        Directory.CreateDirectory(_directory);
        var principal = new Principal
        {
            Kind = PrincipalKind.User, Subject = "alice@corp.example", Issuer = "corp", Groups = ["finance-staff", "all-staff"],
            Amr = ["pwd", "mfa"],
        };
        _line = OcsfWriter.HttpActivity(new AuditEvent
        {
            Time = DateTimeOffset.UtcNow, DecisionId = Guid.CreateVersion7().ToString(), TraceId = "0af7651916cd43dd8448eb211c80319c",
            Decision = new Decision
            {
                Allowed = true, Reason = ReasonCode.Allowed, DestinationSegment = "hr", SourceSegment = "finance",
                RouteId = "payroll-read", RuleName = "finance-auditors", Service = "payroll",
            },
            Reason = ReasonCode.Allowed, Method = "GET", Path = "/payroll/2026-11/summary", StatusCode = 200,
            ClientAddress = IPAddress.Parse("10.10.1.2"), Principal = principal,
            Device = new DevicePosture { DeviceId = "laptop-7", Segment = "finance" }, PolicyVersion = new string('a', 64),
        });

        _discardingSpool = AuditSpool.Open(Path.Combine(_directory, "discarding.spool"), 32L << 20, NullLogger.Instance);
        _discarding = new AuditTrail([new DiscardingSink()], auditAllows: true, NullLogger.Instance);
        _discardingSpool.Recover(_discarding);
        _discardingSet = _discardingSpool.Register(_discarding);

        _fileSpool = AuditSpool.Open(Path.Combine(_directory, "file.spool"), 32L << 20, NullLogger.Instance);
        _toFile = new AuditTrail([FileSink.Open(Path.Combine(_directory, "spooled.jsonl"), NullLogger.Instance)], auditAllows: true,
            NullLogger.Instance);
        _fileSpool.Recover(_toFile);
        _fileSet = _fileSpool.Register(_toFile);

        _direct = FileSink.Open(Path.Combine(_directory, "direct.jsonl"), NullLogger.Instance);
        Console.WriteLine($"// audit line: {_line.Length} bytes");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _discardingSpool.Dispose();
        _fileSpool.Dispose();
        _discarding.Dispose();
        _toFile.Dispose();
        _direct.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>The line committed to the spool, the writer emptying it into a sink that keeps nothing.</summary>
    [Benchmark]
    public bool SpoolAppend() => _discardingSpool.TryAppend(_discardingSet, _line);

    /// <summary>The line committed to the spool, the writer appending to a file meanwhile.</summary>
    [Benchmark]
    public bool SpoolAppend_WriterToFile() => _fileSpool.TryAppend(_fileSet, _line);

    /// <summary>Before the spool: one <c>write(2)</c> of the line to an <c>O_APPEND</c> file.</summary>
    [Benchmark(Baseline = true)]
    public void FileSinkWrite() => _direct.Write(_line);

    private sealed class DiscardingSink : IAuditSink
    {
        public string Name => "discard";

        public void Write(ReadOnlySpan<byte> line)
        {
        }

        public void Dispose()
        {
        }
    }
}
