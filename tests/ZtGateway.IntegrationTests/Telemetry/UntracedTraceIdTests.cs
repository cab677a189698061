using System.Diagnostics;
using System.Text.Json;
using ZtGateway.IntegrationTests.Infrastructure;

namespace ZtGateway.IntegrationTests.Telemetry;

/// <summary>
/// Without span export the gateway records no spans, yet a decision still belongs to the caller's trace: the
/// trace id of a valid <c>traceparent</c> is the one in problem+json and in the audit line; without one (or with
/// a malformed one) each decision gets a new trace id. The upstream's request carries the decision's trace.
/// </summary>
[Collection(ProcessTracing.Name)]
public sealed class UntracedTraceIdTests : IAsyncLifetime
{
    private readonly TestIdentity _identity = new();
    private TestGateway _gateway = null!;
    private EchoUpstream _payroll = null!;

    public async Task InitializeAsync()
    {
        _payroll = await EchoUpstream.StartAsync("payroll");
        var segments = new Dictionary<string, string>
        {
            ["hr"] = $$"""
                segment: hr
                listen: http://127.0.0.1:0
                members:
                  networks: [127.0.0.0/8]
                defaults: { device: any }
                services:
                  payroll: { destinations: ["{{_payroll.Url}}"] }
                routes:
                  - id: payroll-read
                    match: { path: "/payroll/{**rest}", methods: [GET] }
                    service: payroll
                    allow:
                      - { name: hr-staff, from: [hr], users: { groups: [hr-staff] } }
                """,
        };
        _gateway = await TestGateway.StartAsync(_identity, segments);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _payroll.DisposeAsync();
        _identity.Dispose();
    }

    [Fact]
    public async Task Decision_TakesTheTraceIdOfTheCallersTraceparent()
    {
        var callerTrace = ActivityTraceId.CreateRandom().ToHexString();

        var (status, problem) = await DenyAsync($"traceparent: 00-{callerTrace}-{ActivitySpanId.CreateRandom().ToHexString()}-00");

        Assert.Equal(401, status);
        Assert.Equal(callerTrace, problem.GetProperty("traceId").GetString());
        var audit = JsonDocument.Parse(Assert.Single(await AuditLines.ReadWithoutPolicyChangesAsync(_gateway.AuditFile))).RootElement;
        Assert.Equal(callerTrace, audit.GetProperty("trace").GetProperty("uid").GetString());
        Assert.Equal(problem.GetProperty("decisionId").GetString(), audit.GetProperty("metadata").GetProperty("uid").GetString());
    }

    [Fact]
    public async Task AllowedRequest_IsAuditedInTheCallersTrace_AndTheUpstreamJoinsIt()
    {
        var traceparent = $"00-{ActivityTraceId.CreateRandom().ToHexString()}-{ActivitySpanId.CreateRandom().ToHexString()}-01";
        var token = _identity.User(_gateway.Time.GetUtcNow(), "harry", groups: ["hr-staff"]);

        var (status, _) = await RawHttp.SendAsync(_gateway.Listener("hr"), "GET", "/payroll/harry",
            $"Authorization: Bearer {token}", $"traceparent: {traceparent}");

        Assert.Equal(200, status);
        var forwarded = Assert.Single(_payroll.Requests);
        // The caller's own header when nothing in the process records spans; a span of the caller's trace when
        // something does (another test's tracer provider in this process).
        Assert.Equal(traceparent.Split('-')[1], forwarded.Headers["traceparent"].Split('-')[1]);
        var audit = JsonDocument.Parse(Assert.Single(await AuditLines.ReadWithoutPolicyChangesAsync(_gateway.AuditFile))).RootElement;
        Assert.Equal(traceparent.Split('-')[1], audit.GetProperty("trace").GetProperty("uid").GetString());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("traceparent: 00-not-a-trace-01")]
    public async Task AllowedRequest_WithoutAValidTraceparent_TakesTheDecisionsTraceToTheUpstream(string? header)
    {
        var token = _identity.User(_gateway.Time.GetUtcNow(), "harry", groups: ["hr-staff"]);
        string[] headers = header is null ? [$"Authorization: Bearer {token}"] : [$"Authorization: Bearer {token}", header];

        var (status, _) = await RawHttp.SendAsync(_gateway.Listener("hr"), "GET", "/payroll/harry", headers);

        Assert.Equal(200, status);
        var forwarded = Assert.Single(_payroll.Requests);
        Assert.Matches("^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$", forwarded.Headers["traceparent"]);
        var audit = JsonDocument.Parse(Assert.Single(await AuditLines.ReadWithoutPolicyChangesAsync(_gateway.AuditFile))).RootElement;
        Assert.Equal(audit.GetProperty("trace").GetProperty("uid").GetString(), forwarded.Headers["traceparent"].Split('-')[1]);
    }

    [Fact]
    public async Task Decision_WithoutAValidTraceparent_GetsANewTraceIdEachTime()
    {
        var (_, first) = await DenyAsync();
        var (_, malformed) = await DenyAsync("traceparent: 00-not-a-trace-01");
        var (_, zero) = await DenyAsync($"traceparent: 00-{new string('0', 32)}-{ActivitySpanId.CreateRandom().ToHexString()}-01");

        string[] ids = [first.GetProperty("traceId").GetString()!, malformed.GetProperty("traceId").GetString()!, zero.GetProperty("traceId").GetString()!];
        Assert.All(ids, id => Assert.Matches("^[0-9a-f]{32}$", id));
        Assert.DoesNotContain(new string('0', 32), ids);
        Assert.Equal(3, ids.Distinct().Count());
    }

    private async Task<(int Status, JsonElement Problem)> DenyAsync(params string[] headers)
    {
        var (status, response) = await RawHttp.SendAsync(_gateway.Listener("hr"), "GET", "/payroll/harry", headers);
        return (status, JsonDocument.Parse(response[(response.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..]).RootElement);
    }
}
