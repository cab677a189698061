using System.Net;
using System.Text.Json;
using ZtGateway.Audit;
using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Engine;

namespace ZtGateway.Tests.Audit.Ocsf;

/// <summary>
/// Every kind of line the audit writer makes, in every shape it takes (each reason code, each method and one outside
/// the enum, with and without principal, device, address and trace; rate-limited windows; findings of each kind in alert
/// and contain mode; each change of continuous evaluation), is valid against the vendored OCSF 1.8.0 schema.
/// </summary>
public sealed class OcsfLineConformanceTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_000_000);

    private static void AssertValid(byte[] line)
    {
        var violations = OcsfSchema.Vendored.Validate(line);
        Assert.True(violations.Count == 0, System.Text.Encoding.UTF8.GetString(line) + "\n" + string.Join('\n', violations));
    }

    public static TheoryData<ReasonCode> Reasons() => [.. Enum.GetValues<ReasonCode>()];

    public static TheoryData<string> Methods() => ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "CONNECT", "PROPFIND"];

    private static AuditEvent Decision(ReasonCode reason, string method = "GET", bool principal = true, bool device = true, bool address = true,
        string traceId = "0af7651916cd43dd8448eb211c80319c", string? route = "payroll-read", string? rule = "hr-staff")
    {
        var allowed = reason == ReasonCode.Allowed;
        return new AuditEvent
        {
            Time = Now,
            DecisionId = "0192f0a0-0000-7000-8000-000000000001",
            TraceId = traceId,
            Decision = new Decision
            {
                Allowed = allowed,
                Reason = reason,
                DestinationSegment = "hr",
                SourceSegment = address ? "finance" : string.Empty,
                RouteId = route,
                RuleName = allowed ? rule : null,
            },
            Reason = reason,
            Method = method,
            Path = "/payroll/alice",
            StatusCode = allowed ? 200 : reason is ReasonCode.TokenMissing or ReasonCode.TokenInvalid ? 401 : 403,
            ClientAddress = address ? IPAddress.Parse("10.10.1.2") : null,
            Principal = principal ? new Principal { Kind = PrincipalKind.User, Subject = "alice", Issuer = "https://idp.test" } : null,
            Device = device ? new DevicePosture { DeviceId = "laptop-7", Segment = "finance" } : null,
            PolicyVersion = "3f2a9c",
        };
    }

    [Theory]
    [MemberData(nameof(Reasons))]
    public void EachReasonCode_IsAValidHttpActivity(ReasonCode reason) => AssertValid(OcsfWriter.HttpActivity(Decision(reason)));

    [Theory]
    [MemberData(nameof(Methods))]
    public void EachMethod_IsAValidHttpActivity(string method)
    {
        AssertValid(OcsfWriter.HttpActivity(Decision(ReasonCode.Allowed, method)));
        AssertValid(OcsfWriter.HttpActivity(Decision(ReasonCode.NoMatchingRule, method, route: null)));
    }

    [Fact]
    public void ADecisionWithoutPrincipalDeviceAddressTraceOrRoute_IsValid_AndWritesNothingEmpty()
    {
        var line = OcsfWriter.HttpActivity(Decision(ReasonCode.TokenMissing, principal: false, device: false, address: false, traceId: string.Empty,
            route: null));
        AssertValid(line);
        using var json = JsonDocument.Parse(line);
        Assert.False(json.RootElement.TryGetProperty("actor", out _));
        Assert.False(json.RootElement.TryGetProperty("src_endpoint", out _));
        Assert.False(json.RootElement.TryGetProperty("trace", out _));
    }

    [Fact]
    public void AWorkloadsDecision_IsValid() => AssertValid(OcsfWriter.HttpActivity(Decision(ReasonCode.Allowed) with
    {
        Principal = new Principal { Kind = PrincipalKind.Workload, Subject = "spiffe://corp/finance/ledger-sync", WorkloadId = "spiffe://corp/finance/ledger-sync" },
        Device = null,
    }));

    [Theory]
    [InlineData("GET", "/ledger/1")]
    [InlineData("PROPFIND", "/ledger/1")]
    [InlineData(null, null)]
    public void ARateLimitedWindow_IsAValidHttpActivity(string? method, string? path) => AssertValid(OcsfWriter.RateLimited(new RateLimitedEvent
    {
        DecisionId = "0192f0a0-0000-7000-8000-000000000002",
        Start = Now,
        End = Now.AddSeconds(1),
        Count = 250,
        Segment = "finance",
        ClientAddress = IPAddress.Parse("10.10.1.2"),
        Source = "10.10.1.2",
        Method = method,
        Path = path,
        PolicyVersion = "3f2a9c",
    }));

    public static TheoryData<string, DetectionResponse, bool> Findings()
    {
        var data = new TheoryData<string, DetectionResponse, bool>();
        foreach (var code in new[] { "denial-burst", "segment-fan-out", "route-fan-out", "new-segment-pair", "source-mismatch" })
        {
            foreach (var response in new[] { DetectionResponse.Alert, DetectionResponse.Contain })
            {
                data.Add(code, response, true);
                data.Add(code, response, false);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Findings))]
    public void EachFinding_IsAValidDetectionFinding(string code, DetectionResponse response, bool withDevice) => AssertValid(OcsfWriter.DetectionFinding(new FindingEvent
    {
        Id = "0192f0a0-0000-7000-8000-000000000003",
        Time = Now,
        Code = code,
        Title = "Fan-out to many segments",
        Severity = code == "segment-fan-out" ? FindingSeverity.High : FindingSeverity.Medium,
        Analytic = code == "source-mismatch" ? FindingAnalytic.Rule : FindingAnalytic.Behavioral,
        PrincipalId = withDevice ? "mallory" : "spiffe://corp/hr/payroll-engine",
        PrincipalKind = withDevice ? PrincipalKind.User : PrincipalKind.Workload,
        DeviceId = withDevice ? "laptop-9" : null,
        ClientAddress = withDevice ? IPAddress.Parse("10.10.1.2") : null,
        Scope = "principal",
        SourceSegment = "finance",
        DestinationSegment = "engineering",
        RouteId = withDevice ? "builds" : null,
        DecisionId = "0192f0a0-0000-7000-8000-000000000001",
        TraceId = withDevice ? "0af7651916cd43dd8448eb211c80319c" : string.Empty,
        Count = 3,
        Threshold = 2,
        Window = TimeSpan.FromMinutes(10),
        Response = response,
        ContainedUntil = response == DetectionResponse.Contain ? Now.AddMinutes(30) : null,
        Description = "requests to 3 distinct segments",
        PolicyVersion = "3f2a9c",
    }));

    public static TheoryData<string, string?, bool> Changes() => new()
    {
        { "revoke", null, true },
        { "revoke", null, false },
        { "step-up", null, true },
        { "hold", "principal", true },
        { "hold", "device", true },
        { "release", "principal", true },
        { "release", "device", false },
    };

    [Theory]
    [MemberData(nameof(Changes))]
    public void EachChange_IsAValidEntityManagement(string change, string? target, bool withActor)
    {
        var kind = Enum.GetValues<StateChangeKind>().Single(k => k.ToCode() == change);
        AssertValid(Change(kind, target, withActor));
    }

    private static byte[] Change(StateChangeKind kind, string? target, bool withActor) => OcsfWriter.StateChange(new StateChangeEvent
    {
        ChangeId = "0192f0a0-0000-7000-8000-000000000004",
        Time = Now,
        Change = kind,
        Target = target,
        TargetId = target is null ? null : target == "device" ? "laptop-7" : "alice",
        Origin = target is null ? null : "admin",
        Issuer = target is null ? "https://idp.test" : null,
        Subject = target is null ? "alice" : null,
        Reason = "session-revoked",
        Actor = withActor ? "https://signals.test" : null,
        TokenId = withActor ? "set-1" : null,
        At = Now.AddSeconds(-5),
        Until = kind == StateChangeKind.Hold ? Now.AddHours(2) : null,
    });
}
