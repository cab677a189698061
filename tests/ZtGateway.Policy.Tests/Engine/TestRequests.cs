using System.Net;
using Microsoft.Extensions.Time.Testing;
using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Engine;

namespace ZtGateway.Policy.Tests.Engine;

/// <summary>Callers and requests for engine tests.</summary>
internal static class TestRequests
{
    /// <summary>An hr employee who did everything right: MFA an hour ago, compliant managed low-risk hr laptop.</summary>
    public static Principal Alice { get; } = new()
    {
        Kind = PrincipalKind.User,
        Subject = "alice",
        Issuer = "https://idp.example",
        Groups = ["hr-staff"],
        Amr = ["pwd", "mfa"],
        AuthTime = TestPolicy.Now.AddHours(-1),
    };

    public static DevicePosture HrLaptop { get; } = new()
    {
        DeviceId = "laptop-1",
        Segment = "hr",
        Compliant = true,
        Managed = true,
        Risk = RiskLevel.Low,
    };

    public static Principal Workload(string id) => new() { Kind = PrincipalKind.Workload, Subject = id, WorkloadId = id };

    public static RequestContext For(
        Principal? principal, string path = "/payroll/report", string method = "GET", string segment = "hr", string? address = "10.20.1.5") => new()
        {
            Segment = segment,
            Method = method,
            Path = path,
            ClientAddress = address is null ? null : IPAddress.Parse(address),
            Token = principal is null ? TokenStatus.Missing : TokenStatus.Valid,
            Principal = principal,
        };

    /// <summary>Alice on her hr laptop, from the hr network.</summary>
    public static RequestContext AliceRequest(string path = "/payroll/report", string method = "GET") =>
        For(Alice, path, method).WithDevice(HrLaptop);

    public static RequestContext WithDevice(this RequestContext context, DevicePosture? device) => context with
    {
        DeviceStatus = device is null ? DeviceStatus.Absent : DeviceStatus.Verified,
        Device = device,
    };

    public static RequestContext WithPrincipal(this RequestContext context, Func<Principal, Principal> change) =>
        context with { Principal = change(context.Principal!) };

    public static RequestContext From(this RequestContext context, string? address) =>
        context with { ClientAddress = address is null ? null : IPAddress.Parse(address) };

    public static PolicyEngine Engine(PolicySet policy, FakeTimeProvider? time = null) =>
        new(policy, time ?? new FakeTimeProvider(TestPolicy.Now));
}

/// <summary>Decides through both entry points and checks they agree, so every test also covers <c>explain</c>.</summary>
internal static class EngineAssert
{
    public static Decision Decide(PolicyEngine engine, RequestContext context)
    {
        var decision = engine.Decide(context);
        var explanation = engine.Explain(context);
        Assert.Equal(decision, explanation.Decision);
        AgreesWithTraces(decision, explanation.Rules);
        return decision;
    }

    private static void AgreesWithTraces(Decision decision, IReadOnlyList<RuleTrace> traces)
    {
        var denies = traces.TakeWhile(t => t.IsDeny).Count();
        Assert.All(traces.Skip(denies), t => Assert.False(t.IsDeny));
        switch (decision.Reason)
        {
            case ReasonCode.Allowed:
                Assert.Contains(traces, t => !t.IsDeny && t.Applies && t.Outcome == ReasonCode.Allowed && t.Rule == decision.RuleName);
                Assert.DoesNotContain(traces, t => t.IsDeny && t.Applies);
                break;
            case ReasonCode.DeniedByRule:
                Assert.Contains(traces, t => t.IsDeny && t.Applies && t.Rule == decision.RuleName);
                break;
            case ReasonCode.GrantExpired:
                Assert.Contains(traces, t => !t.Applies && t.Rule == decision.RuleName && t.Detail.StartsWith("grant expired at ", StringComparison.Ordinal));
                Assert.DoesNotContain(traces, t => t.Applies);
                break;
            case ReasonCode.SegmentNotAllowed or ReasonCode.NoMatchingRule:
                Assert.NotEmpty(traces);
                Assert.DoesNotContain(traces, t => t.Applies);
                break;
            case var reason when reason.IsStepUp() || reason == ReasonCode.TokenUnbound || (reason.IsDevice() && decision.RuleName is not null):
                Assert.Contains(traces, t => !t.IsDeny && t.Applies && t.Outcome == reason && t.Rule == decision.RuleName);
                Assert.DoesNotContain(traces, t => t.Outcome == ReasonCode.Allowed || (t.IsDeny && t.Applies));
                break;
            default:
                // Refused before the rules were looked at.
                Assert.Empty(traces);
                break;
        }
    }
}
