using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Engine;
using ZtGateway.Telemetry;

namespace ZtGateway.Tests.Telemetry;

/// <summary><c>token-unbound</c> is counted like every refusal: a deny (not a step-up), with its own reason label.</summary>
public sealed class TokenUnboundMetricsTests
{
    [Fact]
    public void TokenUnbound_IsADeny_WithItsReason()
    {
        using var telemetry = GatewayTelemetry.Create(new TelemetrySettings(), "hr", _ => null);
        var decision = new Decision
        {
            Allowed = false, Reason = ReasonCode.TokenUnbound, DestinationSegment = "hr", SourceSegment = "hr", RouteId = "payroll-admin",
        };

        telemetry.Decided(span: null, decision, "d-1", TimeSpan.FromMilliseconds(1));

        Assert.Contains(
            "ztgw_decisions_total{ztgw_decision=\"deny\",ztgw_reason=\"token-unbound\",ztgw_route=\"payroll-admin\",ztgw_segment_dst=\"hr\",ztgw_segment_src=\"hr\"} 1",
            telemetry.Metrics.Render().Split('\n'));
    }
}
