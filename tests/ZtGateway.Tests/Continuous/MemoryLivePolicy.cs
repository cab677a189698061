using Microsoft.Extensions.Logging.Abstractions;
using ZtGateway.Audit;
using ZtGateway.Policy.Configuration;
using ZtGateway.Runtime;

namespace ZtGateway.Tests.Continuous;

/// <summary>A live policy over a given state folder whose audit lines are kept in memory, policy version <c>v1</c>.</summary>
internal sealed class MemoryLivePolicy : ILivePolicy, IDisposable
{
    private readonly Sink _sink = new();

    public MemoryLivePolicy(string stateDirectory)
    {
        Gateway = new GatewayConfig { FilePath = "/gateway.yaml", Gateway = new GatewaySettings { StateDir = stateDirectory } };
        Audit = new AuditTrail([_sink], auditAllows: true, NullLogger.Instance);
    }

    public GatewayConfig Gateway { get; }

    public AuditTrail Audit { get; }

    public string PolicyVersion => "v1";

    /// <summary>The audit lines written so far, without their newline.</summary>
    public IReadOnlyList<string> Lines => _sink.Lines;

    public void Dispose() => Audit.Dispose();

    private sealed class Sink : IAuditSink
    {
        private readonly List<string> _lines = [];

        public string Name => "memory";

        public IReadOnlyList<string> Lines => _lines;

        public void Write(ReadOnlySpan<byte> line) => _lines.Add(System.Text.Encoding.UTF8.GetString(line).TrimEnd('\n'));

        public void Dispose()
        {
        }
    }
}
