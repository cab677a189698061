using System.Net;
using System.Text;
using ZtGateway.Audit;
using ZtGateway.Policy.Engine;

namespace ZtGateway.Tests.Audit;

/// <summary>
/// A line written from a template is byte for byte the line the writer renders in full, for every shape; and a
/// template is used only for a decision like the one it was rendered from.
/// </summary>
public sealed class HttpActivityTemplatesTests
{
    private static readonly Principal Alice = new() { Kind = PrincipalKind.User, Subject = "alice", Issuer = "https://idp.test" };
    private static readonly Principal Payroll = new() { Kind = PrincipalKind.Workload, Subject = "svc", WorkloadId = "spiffe://corp.example/hr/payroll", Issuer = "https://idp.test" };
    private static readonly DevicePosture Laptop = new() { DeviceId = "laptop-7", Segment = "finance" };

    public static TheoryData<ReasonCode, string, bool, bool, bool, string> Shapes()
    {
        var data = new TheoryData<ReasonCode, string, bool, bool, bool, string>();
        foreach (var reason in Enum.GetValues<ReasonCode>())
        {
            data.Add(reason, "GET", true, true, true, "0af7651916cd43dd8448eb211c80319c");
        }

        foreach (var method in new[] { "POST", "PROPFIND", "DELETE" })
        {
            data.Add(ReasonCode.Allowed, method, true, false, true, "0af7651916cd43dd8448eb211c80319c");
        }

        data.Add(ReasonCode.TokenMissing, "GET", false, false, false, string.Empty);
        data.Add(ReasonCode.Allowed, "GET", true, true, false, string.Empty);
        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void ALineFromATemplate_IsTheLineRenderedInFull(ReasonCode reason, string method, bool principal, bool device, bool address, string traceId)
    {
        HttpActivityTemplates.Reset();
        var first = Event(reason, method, principal, device, address, traceId, "0192f0a0-0000-7000-8000-000000000001", 1_800_000_000_000);
        Assert.Equal(Full(first), Render(first));

        // The same caller again, later, with its own decision id and trace.
        var again = first with
        {
            Time = DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_123_456),
            DecisionId = "0192f0a0-1111-7abc-8def-0123456789ab",
            TraceId = traceId.Length > 0 ? "4bf92f3577b34da6a3ce929d0e0e4736" : string.Empty,
        };
        var hits = HttpActivityTemplates.Hits;
        Assert.Equal(Full(again), Render(again));
        Assert.Equal(hits + 1, HttpActivityTemplates.Hits);
    }

    [Fact]
    public void AWorkloadsLine_FromATemplate_IsTheLineRenderedInFull()
    {
        HttpActivityTemplates.Reset();
        var first = Event(ReasonCode.Allowed, "GET", true, true, true, "0af7651916cd43dd8448eb211c80319c", "0192f0a0-0000-7000-8000-000000000001",
            1_800_000_000_000) with { Principal = Payroll };
        Render(first);
        var again = first with { DecisionId = "0192f0a0-2222-7000-8000-000000000002", Time = first.Time.AddSeconds(3) };
        Assert.Equal(Full(again), Render(again));
        Assert.Equal(1, HttpActivityTemplates.Hits);
    }

    [Fact]
    public void ADecisionThatDiffers_IsRenderedInFull()
    {
        HttpActivityTemplates.Reset();
        var first = Event(ReasonCode.Allowed, "GET", true, true, true, "0af7651916cd43dd8448eb211c80319c", "0192f0a0-0000-7000-8000-000000000001",
            1_800_000_000_000);
        Render(first);
        AuditEvent[] others =
        [
            first with { Path = "/payroll/bob" },
            first with { Method = "HEAD" },
            first with { StatusCode = 502, Reason = ReasonCode.UpstreamUnavailable },
            first with { Principal = new Principal { Kind = PrincipalKind.User, Subject = "bob", Issuer = "https://idp.test" } },
            first with { Principal = Payroll },
            first with { Device = null },
            first with { Device = new DevicePosture { DeviceId = "laptop-8", Segment = "finance" } },
            first with { ClientAddress = IPAddress.Parse("10.10.1.3") },
            first with { PolicyVersion = "another" },
            first with { Decision = first.Decision with { RouteId = "other" } },
            first with { Time = DateTimeOffset.FromUnixTimeMilliseconds(999_999_999_999) },            // one digit less
            first with { DecisionId = "0192f0a0-0000-7000-8000-0000000000\"1" },                        // would be escaped
            first with { TraceId = string.Empty },
        ];

        foreach (var other in others)
        {
            HttpActivityTemplates.Reset();
            Render(first);
            Assert.Equal(Full(other), Render(other));
            Assert.Equal(0, HttpActivityTemplates.Hits);
        }

        // And equal values that are other objects where a string is compared: the template serves them.
        HttpActivityTemplates.Reset();
        Render(first);
        var copied = first with
        {
            Path = new string("/payroll/alice".AsSpan()),
            ClientAddress = IPAddress.Parse("10.10.1.2"),
            Principal = new Principal { Kind = PrincipalKind.User, Subject = "alice", Issuer = "https://idp.test", Groups = ["another-token"] },
            Device = new DevicePosture { DeviceId = "laptop-7", Segment = "finance" },
        };
        Assert.Equal(Full(copied), Render(copied));
        Assert.Equal(1, HttpActivityTemplates.Hits);
    }

    private static string Render(AuditEvent e)
    {
        var line = AuditLine.Rent();
        try
        {
            return Encoding.UTF8.GetString(HttpActivityTemplates.Render(e, line));
        }
        finally
        {
            AuditLine.Return(line);
        }
    }

    private static string Full(AuditEvent e) => Encoding.UTF8.GetString(OcsfWriter.HttpActivity(e));

    private static AuditEvent Event(ReasonCode reason, string method, bool principal, bool device, bool address, string traceId, string decisionId, long time)
    {
        var allowed = reason == ReasonCode.Allowed;
        return new AuditEvent
        {
            Time = DateTimeOffset.FromUnixTimeMilliseconds(time),
            DecisionId = decisionId,
            TraceId = traceId,
            Decision = new Decision
            {
                Allowed = allowed,
                Reason = reason,
                DestinationSegment = "hr",
                SourceSegment = address ? "finance" : string.Empty,
                RouteId = "payroll-read",
                RuleName = allowed ? "hr-staff" : null,
            },
            Reason = reason,
            Method = method,
            Path = "/payroll/alice",
            StatusCode = allowed ? 200 : 403,
            ClientAddress = address ? IPAddress.Parse("10.10.1.2") : null,
            Principal = principal ? Alice : null,
            Device = device ? Laptop : null,
            PolicyVersion = "3f2a9c",
        };
    }
}
