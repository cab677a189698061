using System.Net;
using System.Text.Json;
using ZtGateway.Audit;
using ZtGateway.Policy.Engine;

namespace ZtGateway.Tests.Audit.Ocsf;

/// <summary>
/// The line of an ended exchange, for every kind, every way of ending and every reason a decision taken again can give,
/// with and without principal, device, address and trace, is valid against the vendored OCSF 1.8.0 schema.
/// </summary>
public sealed class OcsfExchangeEndedConformanceTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_000_000);

    private static ExchangeEndedEvent Ended(ReasonCode reason, string kind = "websocket", ExchangeEnding ending = ExchangeEnding.Close,
        string method = "GET", bool full = true) => new()
    {
        Time = Now,
        EndingId = "0192f0a0-0000-7000-8000-000000000002",
        DecisionId = "0192f0a0-0000-7000-8000-000000000001",
        TraceId = full ? "0af7651916cd43dd8448eb211c80319c" : string.Empty,
        Opened = Now - TimeSpan.FromSeconds(42.5),
        Kind = kind,
        Ending = ending,
        Reason = reason,
        Decision = new Decision
        {
            Allowed = true,
            Reason = ReasonCode.Allowed,
            DestinationSegment = "hr",
            SourceSegment = "finance",
            RouteId = full ? "payroll-live" : null,
            RuleName = "hr-staff",
        },
        Method = method,
        Path = "/payroll/live",
        StatusCode = kind == "websocket" ? 101 : 200,
        ClientAddress = full ? IPAddress.Parse("10.10.1.2") : null,
        Principal = full ? new Principal { Kind = PrincipalKind.User, Subject = "alice", Issuer = "https://idp.test" } : null,
        Device = full ? new DevicePosture { DeviceId = "laptop-7", Segment = "finance" } : null,
        PolicyVersion = "3f2a9c",
    };

    private static void AssertValid(byte[] line)
    {
        var violations = OcsfSchema.Vendored.Validate(line);
        Assert.True(violations.Count == 0, System.Text.Encoding.UTF8.GetString(line) + "\n" + string.Join('\n', violations));
    }

    public static TheoryData<ReasonCode> Refusals() => [.. Enum.GetValues<ReasonCode>().Where(r => r != ReasonCode.Allowed)];

    [Theory]
    [MemberData(nameof(Refusals))]
    public void EachReason_IsAValidHttpActivity(ReasonCode reason)
    {
        AssertValid(OcsfWriter.ExchangeEnded(Ended(reason)));
        AssertValid(OcsfWriter.ExchangeEnded(Ended(reason, "grpc", ExchangeEnding.GrpcStatus, "POST")));
        AssertValid(OcsfWriter.ExchangeEnded(Ended(reason, "stream", ExchangeEnding.Abort, "PROPFIND", full: false)));
    }

    [Fact]
    public void TheLine_NamesTheDecision_TheEnding_AndHowLongItWasOpen()
    {
        using var json = JsonDocument.Parse(OcsfWriter.ExchangeEnded(Ended(ReasonCode.TokenRevoked)));
        var root = json.RootElement;
        Assert.Equal(4002, root.GetProperty("class_uid").GetInt32());
        Assert.Equal(2, root.GetProperty("action_id").GetInt32());
        Assert.Equal(24, root.GetProperty("disposition_id").GetInt32());
        Assert.Equal("Access Revoked", root.GetProperty("disposition").GetString());
        Assert.Equal("token-revoked", root.GetProperty("status_detail").GetString());
        Assert.Equal(42_500, root.GetProperty("duration").GetInt64());
        Assert.Equal(101, root.GetProperty("http_response").GetProperty("code").GetInt32());
        Assert.Equal("0192f0a0-0000-7000-8000-000000000002", root.GetProperty("metadata").GetProperty("uid").GetString());
        var ztgw = root.GetProperty("unmapped").GetProperty("ztgw");
        Assert.Equal("0192f0a0-0000-7000-8000-000000000001", ztgw.GetProperty("decision_id").GetString());
        Assert.True(ztgw.GetProperty("ended").GetBoolean());
        Assert.Equal("websocket", ztgw.GetProperty("exchange").GetString());
        Assert.Equal("close", ztgw.GetProperty("ending").GetString());
        Assert.Equal(42_500, ztgw.GetProperty("open_ms").GetInt64());
        Assert.Equal("alice", root.GetProperty("actor").GetProperty("user").GetProperty("uid").GetString());
    }
}
