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
