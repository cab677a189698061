using System.Text.Json;
using ZtGateway.Policy.Engine;

namespace ZtGateway.Audit;

/// <summary>
/// Renders decisions as OCSF 1.x JSON lines: HTTP Activity (class 4002) with the Security Control profile
/// fields (docs/design.md section 6), gateway specifics under <c>unmapped.ztgw</c>.
/// </summary>
internal static partial class OcsfWriter
{
    public const int HttpActivityClass = 4002;
    public const string SchemaVersion = "1.3.0";

    public static byte[] HttpActivity(AuditEvent e)
    {
        var line = AuditLine.Rent();
        try
        {
            HttpActivity(e, line.Json);
            return line.Complete().ToArray();
        }
        finally
        {
            AuditLine.Return(line);
        }
    }

    /// <summary>Writes one HTTP Activity object (no line end) to <paramref name="json"/>.</summary>
    public static void HttpActivity(AuditEvent e, Utf8JsonWriter json)
    {
        // action follows the policy decision; an upstream failure after an allow shows in the reason and status.
        var allowed = e.Decision.Allowed;
        var activity = ActivityId(e.Method);
        json.WriteStartObject();
        json.WriteNumber(Names.Time, e.Time.ToUnixTimeMilliseconds());
        WriteOutcome(json, activity, allowed, e.Reason);
        WriteMetadata(json, e.DecisionId);

        json.WriteStartObject(Names.Actor);
        json.WriteStartObject(Names.User);
        if (e.Principal is { } principal)
        {
            json.WriteString(Names.Uid, principal.Kind == PrincipalKind.Workload ? principal.WorkloadId ?? principal.Subject : principal.Subject);
            json.WriteString(Names.Type, principal.Kind == PrincipalKind.Workload ? "System" : "User");
            json.WriteNumber(Names.TypeId, principal.Kind == PrincipalKind.Workload ? 3 : 1);
        }

        json.WriteEndObject();
        json.WriteEndObject();

        if (e.Device is { } device)
        {
            json.WriteStartObject(Names.Device);
            json.WriteString(Names.Uid, device.DeviceId);
            json.WriteNumber(Names.TypeId, 0);
            json.WriteEndObject();
        }

        json.WriteStartObject(Names.SrcEndpoint);
        if (e.ClientAddress is not null)
        {
            json.WriteString(Names.Ip, e.ClientAddress.ToString());
        }

        json.WriteEndObject();

        json.WriteStartObject(Names.HttpRequest);
        json.WriteString(Names.HttpMethod, e.Method);
        json.WriteStartObject(Names.Url);
        json.WriteString(Names.Path, e.Path);
        json.WriteEndObject();
        json.WriteEndObject();

        json.WriteStartObject(Names.HttpResponse);
        json.WriteNumber(Names.Code, e.StatusCode);
        json.WriteEndObject();

        json.WriteStartObject(Names.Policy);
        json.WriteString(Names.Uid, e.Decision.RouteId);
        json.WriteString(Names.Name, e.Decision.RuleName);
        json.WriteBoolean(Names.IsApplied, true);
        json.WriteEndObject();

        json.WriteStartObject(Names.Trace);
        json.WriteString(Names.Uid, e.TraceId);
        json.WriteEndObject();

        json.WriteStartObject(Names.Unmapped);
        json.WriteStartObject(Names.Ztgw);
        json.WriteString(Names.Reason, e.Reason.ToCode());
        json.WriteString(Names.SrcSegment, e.Decision.SourceSegment);
        json.WriteString(Names.DstSegment, e.Decision.DestinationSegment);
        json.WriteString(Names.PolicyVersion, e.PolicyVersion);
        json.WriteEndObject();
        json.WriteEndObject();

        json.WriteEndObject();
    }

    /// <summary>
    /// One line for a window of rate-limited requests: an HTTP Activity denial like any other, with the base-event
    /// <c>count</c> of requests between <c>start_time</c> and <c>end_time</c>. The method and path are written only
    /// when every request of the window had the same; no principal or route was ever looked at.
    /// </summary>
    public static byte[] RateLimited(RateLimitedEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var activity = e.Method is null ? 99 : ActivityId(e.Method);
        var line = AuditLine.Rent();
        try
        {
            var json = line.Json;
            json.WriteStartObject();
            json.WriteNumber(Names.Time, e.Start.ToUnixTimeMilliseconds());
            json.WriteNumber(Names.StartTime, e.Start.ToUnixTimeMilliseconds());
            json.WriteNumber(Names.EndTime, e.End.ToUnixTimeMilliseconds());
            json.WriteNumber(Names.Count, e.Count);
            WriteOutcome(json, activity, allowed: false, ReasonCode.RateLimited);
            WriteMetadata(json, e.DecisionId);

            json.WriteStartObject(Names.SrcEndpoint);
            if (e.ClientAddress is not null)
            {
                json.WriteString(Names.Ip, e.ClientAddress.ToString());
            }

            json.WriteEndObject();

            if (e.Method is not null)
            {
                json.WriteStartObject(Names.HttpRequest);
                json.WriteString(Names.HttpMethod, e.Method);
                if (e.Path is not null)
                {
                    json.WriteStartObject(Names.Url);
                    json.WriteString(Names.Path, e.Path);
                    json.WriteEndObject();
                }

                json.WriteEndObject();
            }

            json.WriteStartObject(Names.HttpResponse);
            json.WriteNumber(Names.Code, 429);
            json.WriteEndObject();

            json.WriteStartObject(Names.Unmapped);
            json.WriteStartObject(Names.Ztgw);
            json.WriteString(Names.Reason, ReasonCode.RateLimited.ToCode());
            json.WriteString(Names.SrcSegment, string.Empty);
            json.WriteString(Names.DstSegment, e.Segment);
            json.WriteString(Names.Source, e.Source);
            json.WriteString(Names.PolicyVersion, e.PolicyVersion);
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

    // The class, activity and outcome members of an HTTP Activity line.
    private static void WriteOutcome(Utf8JsonWriter json, int activity, bool allowed, ReasonCode reason)
    {
        json.WriteNumber(Names.ClassUid, HttpActivityClass);
        json.WriteString(Names.ClassName, "HTTP Activity");
        json.WriteNumber(Names.CategoryUid, 4);
        json.WriteNumber(Names.ActivityId, activity);
        json.WriteNumber(Names.TypeUid, HttpActivityClass * 100 + activity);
        json.WriteNumber(Names.SeverityId, allowed ? 1 : 3);
        json.WriteNumber(Names.ActionId, allowed ? 1 : 2);
        json.WriteString(Names.Action, allowed ? "Allowed" : "Denied");
        json.WriteNumber(Names.DispositionId, allowed ? 1 : 2);
        json.WriteNumber(Names.StatusId, allowed ? 1 : 2);
        json.WriteString(Names.StatusDetail, reason.ToCode());
    }

    private static void WriteMetadata(Utf8JsonWriter json, string decisionId)
    {
        json.WriteStartObject(Names.Metadata);
        json.WriteString(Names.Uid, decisionId);
        json.WriteString(Names.Version, SchemaVersion);
        json.WriteStartArray(Names.Profiles);
        json.WriteStringValue("security_control");
        json.WriteEndArray();
        json.WriteStartObject(Names.Product);
        json.WriteString(Names.Name, "ZtGateway");
        json.WriteString(Names.VendorName, "ZtGateway");
        json.WriteEndObject();
        json.WriteEndObject();
    }

    // OCSF HTTP Activity activity_id values.
    private static int ActivityId(string method) => method switch
    {
        "CONNECT" => 1,
        "DELETE" => 2,
        "GET" => 3,
        "HEAD" => 4,
        "OPTIONS" => 5,
        "POST" => 6,
        "PUT" => 7,
        "TRACE" => 8,
        "PATCH" => 9,
        _ => 99,
    };

    // Property names encoded once: the allow path writes one line per request.
    private static class Names
    {
        public static readonly JsonEncodedText Time = JsonEncodedText.Encode("time");
        public static readonly JsonEncodedText ClassUid = JsonEncodedText.Encode("class_uid");
        public static readonly JsonEncodedText ClassName = JsonEncodedText.Encode("class_name");
        public static readonly JsonEncodedText CategoryUid = JsonEncodedText.Encode("category_uid");
        public static readonly JsonEncodedText ActivityId = JsonEncodedText.Encode("activity_id");
        public static readonly JsonEncodedText TypeUid = JsonEncodedText.Encode("type_uid");
        public static readonly JsonEncodedText SeverityId = JsonEncodedText.Encode("severity_id");
        public static readonly JsonEncodedText ActionId = JsonEncodedText.Encode("action_id");
        public static readonly JsonEncodedText Action = JsonEncodedText.Encode("action");
        public static readonly JsonEncodedText DispositionId = JsonEncodedText.Encode("disposition_id");
        public static readonly JsonEncodedText StatusId = JsonEncodedText.Encode("status_id");
        public static readonly JsonEncodedText StatusDetail = JsonEncodedText.Encode("status_detail");
        public static readonly JsonEncodedText Metadata = JsonEncodedText.Encode("metadata");
        public static readonly JsonEncodedText Uid = JsonEncodedText.Encode("uid");
        public static readonly JsonEncodedText Version = JsonEncodedText.Encode("version");
        public static readonly JsonEncodedText Profiles = JsonEncodedText.Encode("profiles");
        public static readonly JsonEncodedText Product = JsonEncodedText.Encode("product");
        public static readonly JsonEncodedText Name = JsonEncodedText.Encode("name");
        public static readonly JsonEncodedText VendorName = JsonEncodedText.Encode("vendor_name");
        public static readonly JsonEncodedText Actor = JsonEncodedText.Encode("actor");
        public static readonly JsonEncodedText User = JsonEncodedText.Encode("user");
        public static readonly JsonEncodedText Type = JsonEncodedText.Encode("type");
        public static readonly JsonEncodedText TypeId = JsonEncodedText.Encode("type_id");
        public static readonly JsonEncodedText Device = JsonEncodedText.Encode("device");
        public static readonly JsonEncodedText SrcEndpoint = JsonEncodedText.Encode("src_endpoint");
        public static readonly JsonEncodedText Ip = JsonEncodedText.Encode("ip");
        public static readonly JsonEncodedText HttpRequest = JsonEncodedText.Encode("http_request");
        public static readonly JsonEncodedText HttpMethod = JsonEncodedText.Encode("http_method");
        public static readonly JsonEncodedText Url = JsonEncodedText.Encode("url");
        public static readonly JsonEncodedText Path = JsonEncodedText.Encode("path");
        public static readonly JsonEncodedText HttpResponse = JsonEncodedText.Encode("http_response");
        public static readonly JsonEncodedText Code = JsonEncodedText.Encode("code");
        public static readonly JsonEncodedText Policy = JsonEncodedText.Encode("policy");
        public static readonly JsonEncodedText IsApplied = JsonEncodedText.Encode("is_applied");
        public static readonly JsonEncodedText Trace = JsonEncodedText.Encode("trace");
        public static readonly JsonEncodedText Unmapped = JsonEncodedText.Encode("unmapped");
        public static readonly JsonEncodedText Ztgw = JsonEncodedText.Encode("ztgw");
        public static readonly JsonEncodedText Reason = JsonEncodedText.Encode("reason");
        public static readonly JsonEncodedText SrcSegment = JsonEncodedText.Encode("src_segment");
        public static readonly JsonEncodedText DstSegment = JsonEncodedText.Encode("dst_segment");
        public static readonly JsonEncodedText PolicyVersion = JsonEncodedText.Encode("policy_version");
        public static readonly JsonEncodedText StartTime = JsonEncodedText.Encode("start_time");
        public static readonly JsonEncodedText EndTime = JsonEncodedText.Encode("end_time");
        public static readonly JsonEncodedText Count = JsonEncodedText.Encode("count");
        public static readonly JsonEncodedText Source = JsonEncodedText.Encode("source");
    }
}
