using System.Text.Json;
using ZtGateway.Policy.Engine;

namespace ZtGateway.Audit;

/// <summary>
/// Renders decisions as OCSF 1.8.0 JSON lines: HTTP Activity (class 4002) with the profiles it uses declared
/// (<c>security_control</c> for the action, disposition and policy, <c>host</c> for the actor and device,
/// <c>trace</c> for the trace), <c>observables</c> for the principal, device, source address and URL, and gateway
/// specifics under <c>unmapped.ztgw</c> (docs/design.md section 6). Nothing unknown is written: no nulls, no empty objects.
/// </summary>
internal static partial class OcsfWriter
{
    public const int HttpActivityClass = 4002;
    public const string SchemaVersion = "1.8.0";

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
        // action follows the policy decision; an upstream failure after an allow shows in the status and reason.
        var allowed = e.Decision.Allowed;
        var (activity, activityName) = Activity(e.Method);
        json.WriteStartObject();
        json.WriteNumber(Names.Time, e.Time.ToUnixTimeMilliseconds());
        WriteOutcome(json, activity, activityName, allowed, e.StatusCode, e.Reason);
        WriteMetadata(json, e.DecisionId, withTrace: e.TraceId.Length > 0);

        var principalId = WriteRequestParties(json, e.Principal, e.Device, e.ClientAddress, e.Decision.DestinationSegment, activity, e.Method,
            e.Path, e.StatusCode);

        // The gateway policy that decided: its version always, the route and rule when one was matched.
        json.WriteStartObject(Names.Policy);
        json.WriteString(Names.Type, Values.PolicyType);
        json.WriteString(Names.Version, e.PolicyVersion);
        if (e.Decision.RouteId is { Length: > 0 } route)
        {
            json.WriteString(Names.Uid, route);
        }

        if (e.Decision.RuleName is { Length: > 0 } rule)
        {
            json.WriteString(Names.Name, rule);
        }

        json.WriteBoolean(Names.IsApplied, e.Decision.RuleName is { Length: > 0 });
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
    }

    // The parties and the request of an HTTP Activity line, as every line about a request writes them: the actor (a user,
    // or a workload as a system user), the device, the source address, the destination segment, the request and the
    // response code. Returns the actor's uid for the observables.
    private static string? WriteRequestParties(Utf8JsonWriter json, Principal? principal, DevicePosture? device, System.Net.IPAddress? clientAddress,
        string destinationSegment, int activity, string method, string path, int statusCode)
    {
        string? principalId = null;
        if (principal is not null)
        {
            principalId = principal.Kind == PrincipalKind.Workload ? principal.WorkloadId ?? principal.Subject : principal.Subject;
            json.WriteStartObject(Names.Actor);
            json.WriteStartObject(Names.User);
            json.WriteString(Names.Uid, principalId);
            json.WriteNumber(Names.TypeId, principal.Kind == PrincipalKind.Workload ? 3 : 1);
            json.WriteString(Names.Type, principal.Kind == PrincipalKind.Workload ? Values.System : Values.User);
            json.WriteEndObject();
            json.WriteEndObject();
        }

        if (device is not null)
        {
            json.WriteStartObject(Names.Device);
            json.WriteString(Names.Uid, device.DeviceId);
            json.WriteNumber(Names.TypeId, 0);
            json.WriteString(Names.Type, Values.Unknown);
            json.WriteEndObject();
        }

        if (clientAddress is not null)
        {
            json.WriteStartObject(Names.SrcEndpoint);
            json.WriteString(Names.Ip, clientAddress.ToString());
            json.WriteEndObject();
        }

        WriteDestination(json, destinationSegment);

        json.WriteStartObject(Names.HttpRequest);
        if (activity != 99)
        {
            json.WriteString(Names.HttpMethod, method);
        }

        if (path.Length > 0)
        {
            json.WriteStartObject(Names.Url);
            json.WriteString(Names.Path, path);
            json.WriteEndObject();
        }

        json.WriteEndObject();

        json.WriteStartObject(Names.HttpResponse);
        json.WriteNumber(Names.Code, statusCode);
        json.WriteEndObject();
        return principalId;
    }

    // The observables of a line about a request: the actor, the device, the source address and the path.
    private static void WriteRequestObservables(Utf8JsonWriter json, string? principalId, DevicePosture? device, System.Net.IPAddress? clientAddress,
        string path)
    {
        json.WriteStartArray(Names.Observables);
        if (principalId is not null)
        {
            WriteObservable(json, Names.ActorUserUid, 31, principalId);
        }

        if (device is not null)
        {
            WriteObservable(json, Names.DeviceUid, 47, device.DeviceId);
        }

        if (clientAddress is not null)
        {
            WriteObservable(json, Names.SrcEndpointIp, 2, clientAddress.ToString());
        }

        if (path.Length > 0)
        {
            WriteObservable(json, Names.HttpRequestUrl, 23, path);
        }

        json.WriteEndArray();
    }

    /// <summary>
    /// One line for a window of rate-limited requests: an HTTP Activity denial like any other, with the base-event
    /// <c>count</c> of requests between <c>start_time</c> and <c>end_time</c>. The method and path are written only
    /// when every request of the window had the same; no principal or route was ever looked at.
    /// </summary>
    public static byte[] RateLimited(RateLimitedEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var (activity, activityName) = e.Method is null ? (99, Values.Other) : Activity(e.Method);
        var line = AuditLine.Rent();
        try
        {
            var json = line.Json;
            json.WriteStartObject();
            json.WriteNumber(Names.Time, e.Start.ToUnixTimeMilliseconds());
            json.WriteNumber(Names.StartTime, e.Start.ToUnixTimeMilliseconds());
            json.WriteNumber(Names.EndTime, e.End.ToUnixTimeMilliseconds());
            json.WriteNumber(Names.Count, e.Count);
            WriteOutcome(json, activity, activityName, allowed: false, 429, ReasonCode.RateLimited);
            WriteMetadata(json, e.DecisionId, withTrace: false);

            if (e.ClientAddress is not null)
            {
                json.WriteStartObject(Names.SrcEndpoint);
                json.WriteString(Names.Ip, e.ClientAddress.ToString());
                json.WriteEndObject();
            }

            WriteDestination(json, e.Segment);

            if (e.Method is not null && activity != 99)
            {
                json.WriteStartObject(Names.HttpRequest);
                json.WriteString(Names.HttpMethod, e.Method);
                if (e.Path is { Length: > 0 })
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

            json.WriteStartObject(Names.Policy);
            json.WriteString(Names.Type, Values.PolicyType);
            json.WriteString(Names.Version, e.PolicyVersion);
            json.WriteBoolean(Names.IsApplied, false);
            json.WriteEndObject();

            if (e.ClientAddress is not null)
            {
                json.WriteStartArray(Names.Observables);
                WriteObservable(json, Names.SrcEndpointIp, 2, e.ClientAddress.ToString());
                json.WriteEndArray();
            }

            json.WriteStartObject(Names.Unmapped);
            json.WriteStartObject(Names.Ztgw);
            json.WriteString(Names.Reason, ReasonCode.RateLimited.ToCode());
            json.WriteString(Names.DstSegment, e.Segment);
            json.WriteString(Names.Source, e.Source);
            json.WriteString(Names.PolicyVersion, e.PolicyVersion);
            if (e.Method is not null && activity == 99)
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

    // The class, activity and outcome members of an HTTP Activity line.
    private static void WriteOutcome(Utf8JsonWriter json, int activity, JsonEncodedText activityName, bool allowed, int status, ReasonCode reason)
    {
        json.WriteNumber(Names.ClassUid, HttpActivityClass);
        json.WriteString(Names.ClassName, Values.HttpActivity);
        json.WriteNumber(Names.CategoryUid, 4);
        json.WriteString(Names.CategoryName, Values.NetworkActivity);
        json.WriteNumber(Names.ActivityId, activity);
        json.WriteString(Names.ActivityName, activityName);
        json.WriteNumber(Names.TypeUid, HttpActivityClass * 100 + activity);
        json.WriteNumber(Names.SeverityId, allowed ? 1 : 3);
        json.WriteString(Names.Severity, allowed ? Values.Informational : Values.Medium);
        json.WriteNumber(Names.ActionId, allowed ? 1 : 2);
        json.WriteString(Names.Action, allowed ? Values.Allowed : Values.Denied);

        // Allowed, or how it was refused: 401 asks for credentials, 429 turns a flood away, the rest is blocked.
        var (disposition, dispositionName) = allowed ? (1, Values.Allowed)
            : status == 401 ? (26, Values.Unauthorized)
            : status == 429 ? (25, Values.Rejected)
            : (2, Values.Blocked);
        json.WriteNumber(Names.DispositionId, disposition);
        json.WriteString(Names.Disposition, dispositionName);
        var success = allowed && status < 400;
        json.WriteNumber(Names.StatusId, success ? 1 : 2);
        json.WriteString(Names.Status, success ? Values.Success : Values.Failure);
        json.WriteString(Names.StatusDetail, reason.ToCode());
    }

    private static void WriteMetadata(Utf8JsonWriter json, string decisionId, bool withTrace)
    {
        json.WriteStartObject(Names.Metadata);
        json.WriteString(Names.Uid, decisionId);
        json.WriteString(Names.Version, SchemaVersion);
        json.WriteStartArray(Names.Profiles);
        json.WriteStringValue(Values.SecurityControl);
        json.WriteStringValue(Values.Host);
        if (withTrace)
        {
            json.WriteStringValue(Values.TraceProfile);
        }

        json.WriteEndArray();
        json.WriteStartObject(Names.Product);
        json.WriteString(Names.Name, Values.Product);
        json.WriteString(Names.VendorName, Values.Product);
        json.WriteEndObject();
        json.WriteEndObject();
    }

    // The segment's gateway is where the request went: the destination segment names it.
    private static void WriteDestination(Utf8JsonWriter json, string segment)
    {
        if (segment.Length == 0)
        {
            return;
        }

        json.WriteStartObject(Names.DstEndpoint);
        json.WriteString(Names.SvcName, segment);
        json.WriteEndObject();
    }

    private static void WriteObservable(Utf8JsonWriter json, JsonEncodedText name, int type, string value)
    {
        json.WriteStartObject();
        json.WriteString(Names.Name, name);
        json.WriteNumber(Names.TypeId, type);
        json.WriteString(Names.Value, value);
        json.WriteEndObject();
    }

    // OCSF HTTP Activity activity_id values and their captions; a method outside them is Other (99).
    private static (int Id, JsonEncodedText Name) Activity(string method) => method switch
    {
        "CONNECT" => (1, Values.Connect),
        "DELETE" => (2, Values.Delete),
        "GET" => (3, Values.Get),
        "HEAD" => (4, Values.Head),
        "OPTIONS" => (5, Values.Options),
        "POST" => (6, Values.Post),
        "PUT" => (7, Values.Put),
        "TRACE" => (8, Values.Trace),
        "PATCH" => (9, Values.Patch),
        _ => (99, Values.Other),
    };

    private static class Values
    {
        public static readonly JsonEncodedText HttpActivity = JsonEncodedText.Encode("HTTP Activity");
        public static readonly JsonEncodedText NetworkActivity = JsonEncodedText.Encode("Network Activity");
        public static readonly JsonEncodedText Informational = JsonEncodedText.Encode("Informational");
        public static readonly JsonEncodedText Medium = JsonEncodedText.Encode("Medium");
        public static readonly JsonEncodedText Allowed = JsonEncodedText.Encode("Allowed");
        public static readonly JsonEncodedText Denied = JsonEncodedText.Encode("Denied");
        public static readonly JsonEncodedText Blocked = JsonEncodedText.Encode("Blocked");
        public static readonly JsonEncodedText Unauthorized = JsonEncodedText.Encode("Unauthorized");
        public static readonly JsonEncodedText Rejected = JsonEncodedText.Encode("Rejected");
        public static readonly JsonEncodedText Success = JsonEncodedText.Encode("Success");
        public static readonly JsonEncodedText Failure = JsonEncodedText.Encode("Failure");
        public static readonly JsonEncodedText SecurityControl = JsonEncodedText.Encode("security_control");
        public static readonly JsonEncodedText Host = JsonEncodedText.Encode("host");
        public static readonly JsonEncodedText TraceProfile = JsonEncodedText.Encode("trace");
        public static readonly JsonEncodedText Product = JsonEncodedText.Encode("ZtGateway");
        public static readonly JsonEncodedText PolicyType = JsonEncodedText.Encode("ztgw-route");
        public static readonly JsonEncodedText User = JsonEncodedText.Encode("User");
        public static readonly JsonEncodedText System = JsonEncodedText.Encode("System");
        public static readonly JsonEncodedText Unknown = JsonEncodedText.Encode("Unknown");
        public static readonly JsonEncodedText Connect = JsonEncodedText.Encode("Connect");
        public static readonly JsonEncodedText Delete = JsonEncodedText.Encode("Delete");
        public static readonly JsonEncodedText Get = JsonEncodedText.Encode("Get");
        public static readonly JsonEncodedText Head = JsonEncodedText.Encode("Head");
        public static readonly JsonEncodedText Options = JsonEncodedText.Encode("Options");
        public static readonly JsonEncodedText Post = JsonEncodedText.Encode("Post");
        public static readonly JsonEncodedText Put = JsonEncodedText.Encode("Put");
        public static readonly JsonEncodedText Trace = JsonEncodedText.Encode("Trace");
        public static readonly JsonEncodedText Patch = JsonEncodedText.Encode("Patch");
        public static readonly JsonEncodedText Other = JsonEncodedText.Encode("Other");
    }

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
        public static readonly JsonEncodedText CategoryName = JsonEncodedText.Encode("category_name");
        public static readonly JsonEncodedText ActivityName = JsonEncodedText.Encode("activity_name");
        public static readonly JsonEncodedText Severity = JsonEncodedText.Encode("severity");
        public static readonly JsonEncodedText Disposition = JsonEncodedText.Encode("disposition");
        public static readonly JsonEncodedText Status = JsonEncodedText.Encode("status");
        public static readonly JsonEncodedText DstEndpoint = JsonEncodedText.Encode("dst_endpoint");
        public static readonly JsonEncodedText SvcName = JsonEncodedText.Encode("svc_name");
        public static readonly JsonEncodedText Observables = JsonEncodedText.Encode("observables");
        public static readonly JsonEncodedText Value = JsonEncodedText.Encode("value");
        public static readonly JsonEncodedText Method = JsonEncodedText.Encode("method");
        public static readonly JsonEncodedText ActorUserUid = JsonEncodedText.Encode("actor.user.uid");
        public static readonly JsonEncodedText DeviceUid = JsonEncodedText.Encode("device.uid");
        public static readonly JsonEncodedText SrcEndpointIp = JsonEncodedText.Encode("src_endpoint.ip");
        public static readonly JsonEncodedText HttpRequestUrl = JsonEncodedText.Encode("http_request.url");
    }
}
