using System.Text.Json;
using ZtGateway.IntegrationTests.Infrastructure;

namespace ZtGateway.IntegrationTests.Telemetry;

/// <summary>OTLP over gRPC, the default protocol: the decision span reaches the collector.</summary>
[Collection(ProcessTracing.Name)]
public sealed class GrpcExportTests : IAsyncLifetime
{
    private readonly TestIdentity _identity = new();
    private OtlpReceiver _receiver = null!;
    private EchoUpstream _ledger = null!;
    private TestGateway _gateway = null!;

    public async Task InitializeAsync()
    {
        _receiver = await OtlpReceiver.StartAsync();
        _ledger = await EchoUpstream.StartAsync("ledger");
        var gatewayYaml = TestGateway.DefaultGatewayYaml + $"""

            telemetry:
              otlpEndpoint: {_receiver.GrpcEndpoint}
            """;
        _gateway = await TestGateway.StartAsync(_identity, Topology.Standard(_ledger.Url, _ledger.Url, DateTimeOffset.UtcNow.AddDays(1)), gatewayYaml);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _ledger.DisposeAsync();
        await _receiver.DisposeAsync();
        _identity.Dispose();
    }

    [Fact]
    public async Task DecisionSpan_IsExportedOverGrpc_ByDefault()
    {
        Assert.Equal(OpenTelemetry.Exporter.OtlpExportProtocol.Grpc, _gateway.Host.Telemetry.Export?.Protocol);
        using var finance = _gateway.Client("finance");

        var answer = await Problem.SendAsync(finance, HttpMethod.Get, "/ledger/1", _identity.User(_gateway.Time.GetUtcNow(), "alice", ["finance-staff"]));
        Assert.True(_gateway.Host.Telemetry.ForceFlush());

        Assert.Equal(System.Net.HttpStatusCode.OK, answer.Status);
        using var audit = JsonDocument.Parse(Assert.Single(await AuditLines.ReadWithoutPolicyChangesAsync(_gateway.AuditFile)));
        var traceId = audit.RootElement.GetProperty("trace").GetProperty("uid").GetString();
        var spans = await _receiver.WaitForAsync(all => all.Any(s => s.TraceId == traceId && s.Name == "ztgw.decision"));
        var decision = Assert.Single(spans, s => s.TraceId == traceId && s.Name == "ztgw.decision");
        Assert.Equal("ztgw", decision.Service);
        Assert.Equal("allow", decision.Attribute("ztgw.decision"));
        Assert.Equal("ledger", decision.Attribute("ztgw.route"));
        Assert.Equal("finance-staff", decision.Attribute("ztgw.rule"));
    }
}
