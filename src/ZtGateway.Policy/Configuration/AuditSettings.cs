using System.Text;

namespace ZtGateway.Policy.Configuration;

/// <summary>The <c>audit:</c> section.</summary>
public sealed record AuditSettings
{
    /// <summary><c>stdout</c> or <c>file:PATH</c> (PATH resolved to absolute). Defaults to stdout.</summary>
    public IReadOnlyList<string> Sinks { get; init; } = ["stdout"];

    /// <summary>The <c>type: otlp</c> entries of <c>audit.sinks</c>, in the order written. None by default.</summary>
    public IReadOnlyList<OtlpSinkSettings> OtlpSinks { get; init; } = [];

    /// <summary>Whether allowed decisions are audited too. Defaults to true.</summary>
    public bool Allows { get; init; } = true;

    /// <summary>The crash-safe spool the <c>stdout</c> and <c>file:</c> sinks are fed from (<c>audit.spool</c>).</summary>
    public AuditSpoolSettings Spool { get; init; } = new();
}

/// <summary>
/// The <c>audit.spool</c> section: the memory-mapped file every line of the <c>stdout</c> and <c>file:</c> sinks is
/// copied into before the response it records starts, and moved from to those sinks in large writes (decision 0007).
/// There is no way to turn it off. Read at start only: a reload that changes it is refused as restart-required.
/// </summary>
public sealed record AuditSpoolSettings
{
    /// <summary>The file name of the spool in <see cref="GatewaySettings.StateDir"/> when <see cref="Path"/> is not set.</summary>
    public const string DefaultFileName = "ztgw-audit.spool";

    /// <summary>The default <see cref="Size"/>: 32 MiB.</summary>
    public const long DefaultSize = 32L * 1024 * 1024;

    /// <summary>The smallest <see cref="Size"/> accepted: 1 MiB.</summary>
    public const long MinSize = 1024L * 1024;

    /// <summary>The largest <see cref="Size"/> accepted: 4 GiB.</summary>
    public const long MaxSize = 4L * 1024 * 1024 * 1024;

    /// <summary>The spool file (absolute); null: <see cref="DefaultFileName"/> in <see cref="GatewaySettings.StateDir"/>.</summary>
    public string? Path { get; init; }

    /// <summary>The bytes of lines the spool holds on their way to the sinks (the file is one 4 KiB page larger). Defaults to 32 MiB.</summary>
    public long Size { get; init; } = DefaultSize;

    /// <summary>Where <c>audit.spool</c> is written, for messages about it; null when it is not written.</summary>
    public SourceLocation? Location { get; init; }

    /// <summary>The spool file: <see cref="Path"/>, or <see cref="DefaultFileName"/> in <paramref name="stateDirectory"/>.</summary>
    public string PathIn(string stateDirectory) => Path ?? System.IO.Path.Combine(stateDirectory, DefaultFileName);

    /// <summary>Whether <paramref name="other"/> names the same file and size (where the section is written does not matter).</summary>
    public bool SameSpool(AuditSpoolSettings other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return string.Equals(Path, other.Path, StringComparison.Ordinal) && Size == other.Size;
    }
}

/// <summary>
/// An <c>audit.sinks</c> entry of <c>type: otlp</c>: every audit line also goes, as an OpenTelemetry log record, to an
/// OTLP receiver (an OpenTelemetry Collector). Header values may be credentials: they are never printed
/// (see <see cref="ToString"/>).
/// </summary>
public sealed record OtlpSinkSettings
{
    /// <summary>The <c>grpc</c> protocol.</summary>
    public const string Grpc = "grpc";

    /// <summary>The <c>http/protobuf</c> protocol, the default.</summary>
    public const string HttpProtobuf = "http/protobuf";

    /// <summary>The default <see cref="MaxQueue"/>.</summary>
    public const int DefaultMaxQueue = 10_000;

    /// <summary>The largest <see cref="MaxQueue"/> accepted.</summary>
    public const int MaxMaxQueue = 1_000_000;

    /// <summary>
    /// The receiver, an absolute http or https URL as written. Over <c>http/protobuf</c> an endpoint without a path is
    /// the collector's base address and records go to its <c>/v1/logs</c>; an endpoint with a path is used as it is.
    /// </summary>
    public required string Endpoint { get; init; }

    /// <summary><see cref="Grpc"/> or <see cref="HttpProtobuf"/> (the default).</summary>
    public string Protocol { get; init; } = HttpProtobuf;

    /// <summary>Headers sent with every export (an API key, a tenant); their values are never printed.</summary>
    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();

    /// <summary>A PEM file of the certificate authorities an https receiver is verified with (absolute); null: the system store.</summary>
    public string? CaFile { get; init; }

    /// <summary>How many records may wait for the receiver; past that new records are dropped (and counted).</summary>
    public int MaxQueue { get; init; } = DefaultMaxQueue;

    /// <summary>The sink's name in logs and metrics: <c>otlp:</c> and the endpoint.</summary>
    public string Name => "otlp:" + Endpoint;

    /// <summary>The names of the headers only.</summary>
    private bool PrintMembers(StringBuilder builder)
    {
        builder.Append("Endpoint = ").Append(Endpoint)
            .Append(", Protocol = ").Append(Protocol)
            .Append(", Headers = [").AppendJoin(", ", Headers.Keys.Select(k => k + "=*****")).Append(']')
            .Append(", CaFile = ").Append(CaFile)
            .Append(", MaxQueue = ").Append(MaxQueue);
        return true;
    }
}
