using ZtGateway.Policy.Engine;

namespace ZtGateway.Audit;

/// <summary>
/// The line of an open exchange the gateway ended (docs/design.md section 6.1): an HTTP Activity like the decision that
/// allowed it, with that decision's request fields, <c>action</c> <c>Denied</c>, disposition 24 <c>Access Revoked</c>,
/// the reason of the decision taken again as <c>status_detail</c>, <c>start_time</c>/<c>end_time</c>/<c>duration</c>
/// for the time it was open, and under <c>unmapped.ztgw</c> the original <c>decision_id</c>, <c>ended: true</c>, the
/// kind of exchange and how it was ended.
/// </summary>
internal static partial class OcsfWriter
{
    private const int AccessRevoked = 24;

    public static byte[] ExchangeEnded(ExchangeEndedEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var (activity, activityName) = Activity(e.Method);
        var openMs = Math.Max(0, (long)(e.Time - e.Opened).TotalMilliseconds);
        var line = AuditLine.Rent();
        try
        {
            var json = line.Json;
            json.WriteStartObject();
            json.WriteNumber(Names.Time, e.Time.ToUnixTimeMilliseconds());
            json.WriteNumber(Names.StartTime, e.Opened.ToUnixTimeMilliseconds());
            json.WriteNumber(Names.EndTime, e.Time.ToUnixTimeMilliseconds());
            json.WriteNumber("duration", openMs);
            json.WriteNumber(Names.ClassUid, HttpActivityClass);
            json.WriteString(Names.ClassName, Values.HttpActivity);
            json.WriteNumber(Names.CategoryUid, 4);
            json.WriteString(Names.CategoryName, Values.NetworkActivity);
            json.WriteNumber(Names.ActivityId, activity);
            json.WriteString(Names.ActivityName, activityName);
            json.WriteNumber(Names.TypeUid, HttpActivityClass * 100 + activity);
            json.WriteNumber(Names.SeverityId, 3);
            json.WriteString(Names.Severity, Values.Medium);
            json.WriteNumber(Names.ActionId, 2);
            json.WriteString(Names.Action, Values.Denied);
            json.WriteNumber(Names.DispositionId, AccessRevoked);
            json.WriteString(Names.Disposition, "Access Revoked");
            json.WriteNumber(Names.StatusId, 2);
            json.WriteString(Names.Status, Values.Failure);
            json.WriteString(Names.StatusDetail, e.Reason.ToCode());
            WriteMetadata(json, e.EndingId, withTrace: e.TraceId.Length > 0);

            var principalId = WriteRequestParties(json, e.Principal, e.Device, e.ClientAddress, e.Decision.DestinationSegment, activity,
                e.Method, e.Path, e.StatusCode);

            // The policy in force that refused it now, on the route the exchange was allowed on.
            json.WriteStartObject(Names.Policy);
            json.WriteString(Names.Type, Values.PolicyType);
            json.WriteString(Names.Version, e.PolicyVersion);
            if (e.Decision.RouteId is { Length: > 0 } route)
            {
                json.WriteString(Names.Uid, route);
            }

            json.WriteBoolean(Names.IsApplied, true);
            json.WriteEndObject();

            if (e.TraceId.Length > 0)
            {
                json.WriteStartObject(Names.Trace);
                json.WriteString(Names.Uid, e.TraceId);
                json.WriteEndObject();
            }

            WriteRequestObservables(json, principalId, e.Device, e.ClientAddress, e.Path);

            json.WriteStartObject(Names.Unmapped);
            json.WriteStartObject(Names.Ztgw);
            json.WriteString(Names.Reason, e.Reason.ToCode());
            json.WriteString("decision_id", e.DecisionId);
            json.WriteBoolean("ended", true);
            json.WriteString("exchange", e.Kind);
            json.WriteString("ending", e.Ending switch
            {
                ExchangeEnding.Close => "close",
                ExchangeEnding.GrpcStatus => "grpc-status",
                _ => "abort",
            });
            json.WriteNumber("open_ms", openMs);
            if (e.Decision.SourceSegment.Length > 0)
            {
                json.WriteString(Names.SrcSegment, e.Decision.SourceSegment);
            }

            json.WriteString(Names.DstSegment, e.Decision.DestinationSegment);
            json.WriteString(Names.PolicyVersion, e.PolicyVersion);
            if (activity == 99)
            {
                json.WriteString(Names.Method, e.Method);
            }

            json.WriteEndObject();
            json.WriteEndObject();

            json.WriteEndObject();
            return line.Complete().ToArray();
        }
        finally
        {
            AuditLine.Return(line);
        }
    }
}
