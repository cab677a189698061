using System.Buffers;
using System.Text.Json;
using ZtGateway.Policy.Engine;

namespace ZtGateway.Audit;

/// <summary>
/// Renders decisions as OCSF 1.x JSON lines: HTTP Activity (class 4002) with the Security Control profile
/// fields (DESIGN.md section 6), gateway specifics under <c>unmapped.ztgw</c>.
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
        json.WriteNumber("time", e.Time.ToUnixTimeMilliseconds());
        json.WriteNumber("class_uid", HttpActivityClass);
        json.WriteString("class_name", "HTTP Activity");
        json.WriteNumber("category_uid", 4);
        json.WriteNumber("activity_id", activity);
        json.WriteNumber("type_uid", HttpActivityClass * 100 + activity);
        json.WriteNumber("severity_id", allowed ? 1 : 3);
        json.WriteNumber("action_id", allowed ? 1 : 2);
        json.WriteString("action", allowed ? "Allowed" : "Denied");
        json.WriteNumber("disposition_id", allowed ? 1 : 2);
        json.WriteNumber("status_id", allowed ? 1 : 2);
        json.WriteString("status_detail", e.Reason.ToCode());

        json.WriteStartObject("metadata");
        json.WriteString("uid", e.DecisionId);
        json.WriteString("version", SchemaVersion);
        json.WriteStartArray("profiles");
        json.WriteStringValue("security_control");
        json.WriteEndArray();
        json.WriteStartObject("product");
        json.WriteString("name", "ZtGateway");
        json.WriteString("vendor_name", "ZtGateway");
        json.WriteEndObject();
        json.WriteEndObject();

        json.WriteStartObject("actor");
        json.WriteStartObject("user");
        if (e.Principal is { } principal)
        {
            json.WriteString("uid", principal.Kind == PrincipalKind.Workload ? principal.WorkloadId ?? principal.Subject : principal.Subject);
            json.WriteString("type", principal.Kind == PrincipalKind.Workload ? "System" : "User");
            json.WriteNumber("type_id", principal.Kind == PrincipalKind.Workload ? 3 : 1);
        }

        json.WriteEndObject();
        json.WriteEndObject();

        if (e.Device is { } device)
        {
            json.WriteStartObject("device");
            json.WriteString("uid", device.DeviceId);
            json.WriteNumber("type_id", 0);
            json.WriteEndObject();
        }

        json.WriteStartObject("src_endpoint");
        if (e.ClientAddress is not null)
        {
            json.WriteString("ip", e.ClientAddress.ToString());
        }

        json.WriteEndObject();

        json.WriteStartObject("http_request");
        json.WriteString("http_method", e.Method);
        json.WriteStartObject("url");
        json.WriteString("path", e.Path);
        json.WriteEndObject();
        json.WriteEndObject();

        json.WriteStartObject("http_response");
        json.WriteNumber("code", e.StatusCode);
        json.WriteEndObject();

        json.WriteStartObject("policy");
        json.WriteString("uid", e.Decision.RouteId);
        json.WriteString("name", e.Decision.RuleName);
        json.WriteBoolean("is_applied", true);
        json.WriteEndObject();

        json.WriteStartObject("trace");
        json.WriteString("uid", e.TraceId);
        json.WriteEndObject();

        json.WriteStartObject("unmapped");
        json.WriteStartObject("ztgw");
        json.WriteString("reason", e.Reason.ToCode());
        json.WriteString("src_segment", e.Decision.SourceSegment);
        json.WriteString("dst_segment", e.Decision.DestinationSegment);
        json.WriteString("policy_version", e.PolicyVersion);
        json.WriteEndObject();
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
}
