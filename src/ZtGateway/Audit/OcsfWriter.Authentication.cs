using System.Text.Json;

namespace ZtGateway.Audit;

/// <summary>
/// OCSF lines for browser sign-in (docs/design.md sections 3.1 and 6.2): a callback that made a session (Logon,
/// Success), a refused callback (Logon, Failure) and a sign-out (Logoff), as Authentication (class 3002) of the person
/// (<c>user</c>) at the segment's listener (<c>service</c>, <c>dst_endpoint</c>) over OpenID Connect, with the
/// session when there is one. Gateway specifics sit under <c>unmapped.ztgw</c>, as in the other lines.
/// </summary>
internal static partial class OcsfWriter
{
    public const int AuthenticationClass = 3002;

    /// <summary>A refused callback's words are cut to this many characters (they may quote the provider's error description).</summary>
    public const int MaxAuthenticationDetail = 1000;

    /// <summary>The <c>user.name</c> of a refused callback that names nobody (<c>user</c> is required in the class).</summary>
    public const string UnknownUser = "(unknown)";

    // auth_protocol_id 4 is the enum's OpenID (OpenID Connect); the caption is what the schema says.
    private const int OpenIdProtocol = 4;

    public static byte[] Authentication(AuthenticationEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var logoff = e.Kind == AuthenticationKind.SignOut;
        var failed = e.Kind == AuthenticationKind.SignInRefused;
        var (activity, activityName) = logoff ? (2, "Logoff") : (1, "Logon");
        var detail = e.Failure is null ? null : Cut(e.Failure, MaxAuthenticationDetail);
        var (methodId, _) = Activity(e.Method);
        return Line(json =>
        {
            json.WriteNumber("time", e.Time.ToUnixTimeMilliseconds());
            json.WriteNumber("class_uid", AuthenticationClass);
            json.WriteString("class_name", "Authentication");
            json.WriteNumber("category_uid", 3);
            json.WriteString("category_name", "Identity & Access Management");
            json.WriteNumber("activity_id", activity);
            json.WriteString("activity_name", activityName);
            json.WriteNumber("type_uid", AuthenticationClass * 100 + activity);
            json.WriteNumber("severity_id", failed ? 3 : 1);
            json.WriteString("severity", failed ? "Medium" : "Informational");
            json.WriteNumber("status_id", failed ? 2 : 1);
            json.WriteString("status", failed ? "Failure" : "Success");
            if (detail is not null)
            {
                json.WriteString("status_detail", detail);
            }

            json.WriteString("message", AuthenticationMessage(e, detail));
            Metadata(json, e.Id, "host");
            json.WriteNumber("auth_protocol_id", OpenIdProtocol);
            json.WriteString("auth_protocol", "OpenID");
            if (!logoff && !failed && e.Amr.Count > 0)
            {
                json.WriteBoolean("is_mfa", e.Amr.Contains("mfa", StringComparer.Ordinal));
            }

            // The person: by sub, as actor.user.uid of the HTTP lines; a refused callback may name nobody.
            json.WriteStartObject("user");
            if (e.Subject is not null)
            {
                json.WriteString("uid", e.Subject);
                WriteIfSet(json, "name", e.UserName);
                json.WriteNumber("type_id", 1);
                json.WriteString("type", "User");
            }
            else
            {
                json.WriteString("name", e.UserName ?? UnknownUser);
                json.WriteNumber("type_id", 0);
                json.WriteString("type", "Unknown");
            }

            json.WriteEndObject();

            if (e.SessionId is not null || e.SessionCreated is not null)
            {
                json.WriteStartObject("session");
                WriteIfSet(json, "uid", e.SessionId);
                WriteIfSet(json, "issuer", e.Issuer);
                if (e.SessionCreated is { } created)
                {
                    json.WriteNumber("created_time", created.ToUnixTimeMilliseconds());
                }

                if (e.SessionExpires is { } expires)
                {
                    json.WriteNumber("expiration_time", expires.ToUnixTimeMilliseconds());
                }

                json.WriteEndObject();
            }

            json.WriteStartObject("service");
            json.WriteString("name", e.Segment);
            json.WriteEndObject();

            if (e.ClientAddress is not null)
            {
                json.WriteStartObject("src_endpoint");
                json.WriteString("ip", e.ClientAddress.ToString());
                json.WriteEndObject();
            }

            json.WriteStartObject("dst_endpoint");
            json.WriteString("svc_name", e.Segment);
            if (e.ListenerAddress is not null)
            {
                json.WriteString("ip", e.ListenerAddress.ToString());
            }

            if (e.ListenerPort is { } port)
            {
                json.WriteNumber("port", port);
            }

            json.WriteEndObject();

            // The request's method and path only: the callback's query holds the code and state.
            if (methodId != 99 || e.Path.Length > 0)
            {
                json.WriteStartObject("http_request");
                if (methodId != 99)
                {
                    json.WriteString("http_method", e.Method);
                }

                if (e.Path.Length > 0)
                {
                    json.WriteStartObject("url");
                    json.WriteString("path", e.Path);
                    json.WriteEndObject();
                }

                json.WriteEndObject();
            }

            if (e.Subject is not null || e.ClientAddress is not null)
            {
                json.WriteStartArray("observables");
                if (e.Subject is not null)
                {
                    Observable(json, "user.uid", 31, e.Subject);
                }

                if (e.ClientAddress is not null)
                {
                    Observable(json, "src_endpoint.ip", 2, e.ClientAddress.ToString());
                }

                json.WriteEndArray();
            }

            json.WriteStartObject("unmapped");
            json.WriteStartObject("ztgw");
            json.WriteString("segment", e.Segment);
            json.WriteString("issuer", e.IssuerName);
            if (e.StepUp is { } stepUp)
            {
                json.WriteBoolean("step_up", stepUp);
            }

            WriteIfSet(json, "reason", e.Reason);
            WriteIfSet(json, "detail", detail);
            WriteIfSet(json, "decision_id", e.DecisionId);
            if (methodId == 99)
            {
                json.WriteString("method", e.Method);
            }

            WriteIfSet(json, "trace_id", e.TraceId is { Length: > 0 } ? e.TraceId : null);
            json.WriteEndObject();
            json.WriteEndObject();
        });
    }

    private static string AuthenticationMessage(AuthenticationEvent e, string? detail) => e.Kind switch
    {
        AuthenticationKind.SignIn => $"{e.Subject} signed in at {e.IssuerName} on segment {e.Segment}" + (e.StepUp == true ? " (step-up)" : string.Empty),
        AuthenticationKind.SignOut => $"{e.Subject} signed out of segment {e.Segment}",
        _ => $"a sign-in callback on segment {e.Segment} was refused" + (detail is null ? string.Empty : ": " + detail),
    };

    // At most max characters, never splitting a surrogate pair.
    private static string Cut(string text, int max)
    {
        if (text.Length <= max)
        {
            return text;
        }

        var end = max - 3;
        if (char.IsHighSurrogate(text[end - 1]))
        {
            end--;
        }

        return text[..end] + "...";
    }
}
