using System.Diagnostics;
using ZtGateway.Audit;
using ZtGateway.Enforcement.Model;
using ZtGateway.Policy.Engine;

namespace ZtGateway.Enforcement.SignIn;

/// <summary>Refusals of the sign-in endpoints: audited like any decision, then answered as a page (or problem+json).</summary>
internal static class SignInAudit
{
    public static Task RefuseAsync(HttpContext context, GatewayStateHolder holder, TimeProvider time, string segment, ReasonCode reason,
        string? signInLink = null, Principal? principal = null)
    {
        var state = holder.Current;
        var now = time.GetUtcNow();
        var decisionId = DecisionIds.Next(now);
        var traceId = Activity.Current?.TraceId.ToHexString() ?? ActivityTraceId.CreateRandom().ToHexString();
        var status = ReasonStatus.For(reason);
        state.Audit.Record(new AuditEvent
        {
            Time = now,
            DecisionId = decisionId,
            TraceId = traceId,
            SpanId = Activity.Current?.SpanId.ToHexString(),
            Decision = new Decision { Allowed = false, Reason = reason, DestinationSegment = segment },
            Reason = reason,
            Method = context.Request.Method,
            Path = context.Request.Path.Value ?? string.Empty,
            StatusCode = status,
            ClientAddress = context.Connection.RemoteIpAddress,
            Principal = principal,
            PolicyVersion = state.Policy.Version,
        });
        if (context.Response.HasStarted)
        {
            context.Abort();
            return Task.CompletedTask;
        }

        context.Response.Clear();
        return DenialWriter.WriteAsync(context, segment, reason, decisionId, traceId, signInLink: signInLink);
    }
}
