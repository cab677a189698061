using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;
using ZtGateway.IntegrationTests.Infrastructure;
using ZtGateway.SampleService;

namespace ZtGateway.IntegrationTests.Telemetry;

/// <summary>
/// The gateway and the sample upstream export to an OTLP/HTTP receiver on loopback: each decision is a
/// <c>ztgw.decision</c> span with its attributes, and the upstream's server span is in the same trace, whose id is
/// the one in problem+json and in the audit line.
/// </summary>
[Collection(ProcessTracing.Name)]
public sealed class TracingTests : IAsyncLifetime
{
    private readonly TestIdentity _identity = new();
    private OtlpReceiver _receiver = null!;
    private TestGateway _gateway = null!;
    private WebApplication _sample = null!;
    private int _samplePort;

    public async Task InitializeAsync()
    {
        _receiver = await OtlpReceiver.StartAsync();
        _samplePort = Topology.UnusedPort();
        var segments = new Dictionary<string, string>
        {
            ["hr"] = $$"""
                segment: hr
                listen: http://127.0.0.1:0
                members:
                  networks: [127.0.0.0/8]
                defaults: { device: any }
                services:
                  payroll: { destinations: ["http://127.0.0.1:{{_samplePort}}"] }
                routes:
                  - id: payroll-read
                    match: { path: "/payroll/{**rest}", methods: [GET] }
                    service: payroll
                    allow:
                      - { name: hr-staff, from: [hr], users: { groups: [hr-staff] } }
                """,
        };
        var gatewayYaml = TestGateway.DefaultGatewayYaml + $"""

            telemetry:
              serviceName: ztgw-under-test
              otlpEndpoint: {_receiver.Endpoint}
              otlpProtocol: http/protobuf
            """;
        _gateway = await TestGateway.StartAsync(_identity, segments, gatewayYaml);
        _sample = SampleServiceApp.Build(
            ["--urls", $"http://127.0.0.1:{_samplePort}", "--service", "payroll", "--gateway-issuer", "https://ztgw.test",
             "--gateway-jwks", new Uri(_gateway.Listener("hr"), "/.well-known/ztgw/jwks.json").ToString(),
             "--otlp-endpoint", _receiver.Endpoint.ToString(), "--otlp-protocol", "http/protobuf",
             "--Logging:LogLevel:Default", "Warning"]);
        await _sample.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _sample.StopAsync();
        await _sample.DisposeAsync();
        await _gateway.DisposeAsync();
        await _receiver.DisposeAsync();
        _identity.Dispose();
    }

    // Both exporters live in this process and listen to every ASP.NET Core request in it, so spans are told
    // apart by the port that served them, not by the exporting service's name.
    private string SamplePort => _samplePort.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private void Flush()
    {
        Assert.True(_gateway.Host.Telemetry.ForceFlush());
        Assert.True(_sample.Services.GetRequiredService<TracerProvider>().ForceFlush(5000));
    }

    [Fact]
    public async Task AllowedRequest_DecisionSpan_AndTheUpstreamSpan_ShareTheTraceOfTheAuditLine()
    {
        using var client = _gateway.Client("hr");

        var answer = await Problem.SendAsync(client, HttpMethod.Get, "/payroll/harry", _identity.User(_gateway.Time.GetUtcNow(), "harry", ["hr-staff"]));
        Flush();

        Assert.Equal(HttpStatusCode.OK, answer.Status);
        var audit = JsonDocument.Parse(Assert.Single(await AuditLines.ReadWithoutPolicyChangesAsync(_gateway.AuditFile))).RootElement;
        var traceId = audit.GetProperty("trace").GetProperty("uid").GetString()!;
        var decisionId = audit.GetProperty("metadata").GetProperty("uid").GetString();
        var spans = await _receiver.WaitForAsync(all =>
            all.Any(s => s.TraceId == traceId && s.Name == "ztgw.decision")
            && all.Any(s => s.TraceId == traceId && s.Kind == ReceivedSpan.KindServer && s.Attribute("server.port") == SamplePort));

        var decision = Assert.Single(spans, s => s.TraceId == traceId && s.Name == "ztgw.decision" && s.Service == "ztgw-under-test");
        Assert.Equal("hr", decision.Attribute("ztgw.segment.src"));
        Assert.Equal("hr", decision.Attribute("ztgw.segment.dst"));
        Assert.Equal("payroll-read", decision.Attribute("ztgw.route"));
        Assert.Equal("hr-staff", decision.Attribute("ztgw.rule"));
        Assert.Equal("allow", decision.Attribute("ztgw.decision"));
        Assert.Equal("allowed", decision.Attribute("ztgw.reason"));
        Assert.Equal(decisionId, decision.Attribute("ztgw.decision_id"));

        // The decision span is a child of the gateway's server span for the request.
        var gatewayServer = spans.First(s => s.SpanId == decision.ParentSpanId);
        Assert.Equal(ReceivedSpan.KindServer, gatewayServer.Kind);

        // The sample service's server span continues the trace from the gateway's forwarding (client) span.
        var upstream = spans.First(s => s.TraceId == traceId && s.Kind == ReceivedSpan.KindServer
            && s.Attribute("server.port") == SamplePort);
        var forwarding = spans.First(s => s.SpanId == upstream.ParentSpanId);
        Assert.Equal(ReceivedSpan.KindClient, forwarding.Kind);
        Assert.Equal(traceId, forwarding.TraceId);
    }

    [Fact]
    public async Task DeniedRequest_DecisionSpan_ContinuesTheCallersTrace_WhoseIdIsInTheProblem()
    {
        var callerTrace = ActivityTraceId.CreateRandom().ToHexString();

        // A raw request, so that this process's own HTTP instrumentation cannot touch the header. The caller does
        // not sample its trace; the gateway records its decision anyway.
        var (status, response) = await RawHttp.SendAsync(_gateway.Listener("hr"), "GET", "/payroll/harry",
            $"traceparent: 00-{callerTrace}-{ActivitySpanId.CreateRandom().ToHexString()}-00");
        Flush();

        Assert.Equal(401, status);
        var problem = JsonDocument.Parse(response[(response.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..]).RootElement;
        Assert.Equal("token-missing", problem.GetProperty("reason").GetString());
        Assert.Equal(callerTrace, problem.GetProperty("traceId").GetString());
        var audit = JsonDocument.Parse(Assert.Single(await AuditLines.ReadWithoutPolicyChangesAsync(_gateway.AuditFile))).RootElement;
        Assert.Equal(callerTrace, audit.GetProperty("trace").GetProperty("uid").GetString());

        var spans = await _receiver.WaitForAsync(all => all.Any(s => s.TraceId == callerTrace && s.Name == "ztgw.decision"));
        var decision = Assert.Single(spans, s => s.TraceId == callerTrace && s.Name == "ztgw.decision" && s.Service == "ztgw-under-test");
        Assert.Equal("deny", decision.Attribute("ztgw.decision"));
        Assert.Equal("token-missing", decision.Attribute("ztgw.reason"));
        Assert.Equal("hr", decision.Attribute("ztgw.segment.dst"));
        Assert.Equal("payroll-read", decision.Attribute("ztgw.route"));
        Assert.Equal(problem.GetProperty("decisionId").GetString(), decision.Attribute("ztgw.decision_id"));
        Assert.DoesNotContain(spans, s => s.TraceId == callerTrace && s.Attribute("server.port") == SamplePort);
    }
}
