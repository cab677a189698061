using System.Buffers;
using System.Text.Json;
using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Engine;

namespace ZtGateway.Audit;

/// <summary>
/// OCSF lines for continuous evaluation: lateral-movement findings as Detection Finding (class 2004), and
/// changes to revocations and quarantines (by a signal, an operator or the detector) as Entity Management
/// (class 3004). Gateway specifics sit under <c>unmapped.ztgw</c>, as in decision lines.
/// </summary>
internal static partial class OcsfWriter
{
    public const int DetectionFindingClass = 2004;
    public const int EntityManagementClass = 3004;

    public static byte[] DetectionFinding(FindingEvent f)
    {
        ArgumentNullException.ThrowIfNull(f);
        var contained = f.Response == DetectionResponse.Contain;
        var high = f.Severity == FindingSeverity.High;
        var user = f.PrincipalKind == PrincipalKind.Workload ? (Id: 3, Name: "System") : (Id: 1, Name: "User");
        return Line(json =>
        {
            json.WriteNumber("time", f.Time.ToUnixTimeMilliseconds());
            json.WriteNumber("class_uid", DetectionFindingClass);
            json.WriteString("class_name", "Detection Finding");
            json.WriteNumber("category_uid", 2);
            json.WriteString("category_name", "Findings");
            json.WriteNumber("activity_id", 1);
            json.WriteString("activity_name", "Create");
            json.WriteNumber("type_uid", DetectionFindingClass * 100 + 1);
            json.WriteNumber("severity_id", high ? 4 : 3);
            json.WriteString("severity", high ? "High" : "Medium");
            json.WriteNumber("status_id", 1);
            json.WriteString("status", "New");

            // Security Control profile: contain quarantines (denies from now on), alert only observes.
            json.WriteNumber("action_id", contained ? 2 : 3);
            json.WriteString("action", contained ? "Denied" : "Observed");
            json.WriteNumber("disposition_id", contained ? 3 : 15);
            json.WriteString("disposition", contained ? "Quarantined" : "Detected");
            json.WriteBoolean("is_alert", true);
            json.WriteString("message", f.Description);
            Metadata(json, f.Id, "security_control", "host");

            json.WriteStartObject("finding_info");
            json.WriteString("uid", f.Id);
            json.WriteString("title", f.Title);
            json.WriteString("desc", f.Description);
            json.WriteStartArray("types");
            json.WriteStringValue("lateral-movement");
            json.WriteStringValue(f.Code);
            json.WriteEndArray();
            json.WriteStartObject("analytic");
            json.WriteString("uid", f.Code);
            json.WriteString("name", f.Title);
            json.WriteNumber("type_id", f.Analytic == FindingAnalytic.Rule ? 1 : 2);
            json.WriteString("type", f.Analytic == FindingAnalytic.Rule ? "Rule" : "Behavioral");
            json.WriteEndObject();
            json.WriteNumber("last_seen_time", f.Time.ToUnixTimeMilliseconds());
            json.WriteStartArray("related_events");
            json.WriteStartObject();
            json.WriteString("uid", f.DecisionId);
            json.WriteString("type_name", "HTTP Activity");
            json.WriteEndObject();
            json.WriteEndArray();
            json.WriteEndObject();

            Actor(json);

            if (f.DeviceId is not null)
            {
                json.WriteStartObject("device");
                json.WriteString("uid", f.DeviceId);
                json.WriteNumber("type_id", 0);
                json.WriteString("type", "Unknown");
                json.WriteEndObject();
            }

            // What was seen: the request that tipped the window, from where, by whom, to which segment.
            json.WriteStartArray("evidences");
            json.WriteStartObject();
            Actor(json);
            if (f.ClientAddress is not null)
            {
                json.WriteStartObject("src_endpoint");
                json.WriteString("ip", f.ClientAddress.ToString());
                json.WriteEndObject();
            }

            json.WriteStartObject("dst_endpoint");
            json.WriteString("svc_name", f.DestinationSegment);
            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteEndArray();

            json.WriteStartArray("observables");
            Observable(json, "actor.user.uid", 31, f.PrincipalId);
            if (f.DeviceId is not null)
            {
                Observable(json, "device.uid", 47, f.DeviceId);
            }

            json.WriteEndArray();

            json.WriteStartObject("unmapped");
            json.WriteStartObject("ztgw");
            json.WriteString("detection", f.Code);
            json.WriteString("scope", f.Scope);
            if (f.SourceSegment.Length > 0)
            {
                json.WriteString("src_segment", f.SourceSegment);
            }

            json.WriteString("dst_segment", f.DestinationSegment);
            WriteIfSet(json, "route", f.RouteId);
            if (f.ClientAddress is not null)
            {
                json.WriteString("src_ip", f.ClientAddress.ToString());
            }

            json.WriteNumber("count", f.Count);
            json.WriteNumber("threshold", f.Threshold);
            json.WriteNumber("window_seconds", (long)f.Window.TotalSeconds);
            json.WriteString("response", contained ? "contain" : "alert");
            if (f.ContainedUntil is { } until)
            {
                json.WriteNumber("contained_until", until.ToUnixTimeMilliseconds());
            }

            json.WriteString("decision_id", f.DecisionId);
            WriteIfSet(json, "trace_id", f.TraceId.Length > 0 ? f.TraceId : null);
            json.WriteString("policy_version", f.PolicyVersion);
            json.WriteEndObject();
            json.WriteEndObject();

            void Actor(Utf8JsonWriter writer)
            {
                writer.WriteStartObject("actor");
                writer.WriteStartObject("user");
                writer.WriteString("uid", f.PrincipalId);
                writer.WriteNumber("type_id", user.Id);
                writer.WriteString("type", user.Name);
                writer.WriteEndObject();
                writer.WriteEndObject();
            }
        });
    }

    public static byte[] StateChange(StateChangeEvent change)
    {
        ArgumentNullException.ThrowIfNull(change);
        var code = change.Change.ToCode();
        var (activity, activityName, entityType) = change.Change switch
        {
            StateChangeKind.Hold => (1, "Create", "quarantine:" + change.Target),
            StateChangeKind.Release => (4, "Delete", "quarantine:" + change.Target),
            StateChangeKind.StepUp => (3, "Update", "step-up"),
            _ => (3, "Update", "revocation"),
        };
        var entityId = change.TargetId ?? change.Issuer + " " + change.Subject;
        var device = change.Target == "device" ? change.TargetId : null;
        var user = device is null ? change.TargetId ?? change.Subject : null;
        var release = change.Change == StateChangeKind.Release;
        return Line(json =>
        {
            json.WriteNumber("time", change.Time.ToUnixTimeMilliseconds());
            json.WriteNumber("class_uid", EntityManagementClass);
            json.WriteString("class_name", "Entity Management");
            json.WriteNumber("category_uid", 3);
            json.WriteString("category_name", "Identity & Access Management");
            json.WriteNumber("activity_id", activity);
            json.WriteString("activity_name", activityName);
            json.WriteNumber("type_uid", EntityManagementClass * 100 + activity);
            json.WriteNumber("severity_id", release ? 1 : 3);
            json.WriteString("severity", release ? "Informational" : "Medium");
            json.WriteNumber("status_id", 1);
            json.WriteString("status", "Success");
            json.WriteString("message", code + " " + entityId + (change.Reason is null ? string.Empty : " (" + change.Reason + ")"));
            Metadata(json, change.ChangeId, "host");

            json.WriteStartObject("entity");
            json.WriteString("uid", entityId);
            json.WriteString("type", entityType);
            if (user is not null)
            {
                json.WriteStartObject("user");
                json.WriteString("uid", user);
                json.WriteEndObject();
            }

            if (device is not null)
            {
                json.WriteStartObject("device");
                json.WriteString("uid", device);
                json.WriteNumber("type_id", 0);
                json.WriteString("type", "Unknown");
                json.WriteEndObject();
            }

            json.WriteEndObject();

            if (change.Actor is not null)
            {
                json.WriteStartObject("actor");
                json.WriteStartObject("user");
                json.WriteString("uid", change.Actor);
                json.WriteEndObject();
                json.WriteEndObject();
            }

            json.WriteStartArray("observables");
            if (user is not null)
            {
                Observable(json, "entity.user.uid", 31, user);
            }

            if (device is not null)
            {
                Observable(json, "entity.device.uid", 47, device);
            }

            if (change.Actor is not null)
            {
                Observable(json, "actor.user.uid", 31, change.Actor);
            }

            json.WriteEndArray();

            json.WriteStartObject("unmapped");
            json.WriteStartObject("ztgw");
            json.WriteString("change", code);
            WriteIfSet(json, "target", change.Target);
            WriteIfSet(json, "id", change.TargetId);
            WriteIfSet(json, "origin", change.Origin);
            WriteIfSet(json, "iss", change.Issuer);
            WriteIfSet(json, "sub", change.Subject);
            WriteIfSet(json, "reason", change.Reason);
            WriteIfSet(json, "jti", change.TokenId);
            if (change.At is { } at)
            {
                json.WriteNumber("at", at.ToUnixTimeMilliseconds());
            }

            if (change.Until is { } until)
            {
                json.WriteNumber("until", until.ToUnixTimeMilliseconds());
            }

            json.WriteEndObject();
            json.WriteEndObject();
        });
    }

    private static void Metadata(Utf8JsonWriter json, string uid, params ReadOnlySpan<string> profiles)
    {
        json.WriteStartObject("metadata");
        json.WriteString("uid", uid);
        json.WriteString("version", SchemaVersion);
        json.WriteStartArray("profiles");
        foreach (var profile in profiles)
        {
            json.WriteStringValue(profile);
        }

        json.WriteEndArray();
        json.WriteStartObject("product");
        json.WriteString("name", "ZtGateway");
        json.WriteString("vendor_name", "ZtGateway");
        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static void Observable(Utf8JsonWriter json, string name, int type, string value)
    {
        json.WriteStartObject();
        json.WriteString("name", name);
        json.WriteNumber("type_id", type);
        json.WriteString("value", value);
        json.WriteEndObject();
    }

    private static void WriteIfSet(Utf8JsonWriter json, string name, string? value)
    {
        if (value is not null)
        {
            json.WriteString(name, value);
        }
    }

    private static byte[] Line(Action<Utf8JsonWriter> body)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            body(json);
            json.WriteEndObject();
        }

        var bytes = new byte[buffer.WrittenCount + 1];
        buffer.WrittenSpan.CopyTo(bytes);
        bytes[^1] = (byte)'\n';
        return bytes;
    }
}
