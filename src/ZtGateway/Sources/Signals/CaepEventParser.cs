using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using ZtGateway.Sources.Continuous;

namespace ZtGateway.Sources.Signals;

/// <summary>What one CAEP event asks of the gateway.</summary>
internal enum SignalAction
{
    /// <summary>An event type the gateway does not act on (or an assurance increase): acknowledged, nothing changes.</summary>
    None,

    /// <summary>Refuse the user's tokens issued at or before the event.</summary>
    Revoke,

    /// <summary>Refuse the tokens and browser sessions of one provider session (<c>sid</c>) of the user issued at or before the event.</summary>
    RevokeSession,

    /// <summary>Make the user's tokens issued at or before the event step up.</summary>
    StepUp,

    /// <summary>Quarantine the device until a compliant event.</summary>
    QuarantineDevice,

    /// <summary>Lift the quarantine a not-compliant event placed on the device.</summary>
    ReleaseDevice,
}

/// <summary>One event of a SET, parsed.</summary>
/// <param name="EventType">The event URI.</param>
/// <param name="Action">What it asks.</param>
/// <param name="User">For user events: the subject's token issuer and <c>sub</c>.</param>
/// <param name="Device">For device events: the device id (the <c>sub</c> of its posture assertions).</param>
/// <param name="At">The event's <c>event_timestamp</c>, else the SET's <c>iat</c>.</param>
internal sealed record SignalEvent(string EventType, SignalAction Action, SubjectKey? User, string? Device, DateTimeOffset At)
{
    /// <summary>For <see cref="SignalAction.RevokeSession"/>: the provider session id (the <c>sid</c> of its ID tokens).</summary>
    public string? Session { get; init; }

    /// <summary>The event's name without the CAEP prefix, e.g. <c>session-revoked</c>.</summary>
    public string Name => EventType.StartsWith(CaepEventTypes.Prefix, StringComparison.Ordinal) ? EventType[CaepEventTypes.Prefix.Length..] : EventType;
}

/// <summary>
/// Reads the <c>events</c> claim of a verified SET (RFC 8417 section 2.2) and the CAEP events in it. The
/// subject is the event's <c>subject</c> member, else the SET's <c>sub_id</c> (Shared Signals Framework).
/// A user is <c>{"format":"iss_sub","iss":...,"sub":...}</c>, a device <c>{"format":"opaque","id":...}</c>, or
/// either inside a <c>complex</c> subject's <c>user</c> / <c>device</c> member. A <c>session-revoked</c> or
/// <c>credential-change</c> whose complex subject also has a <c>session</c> member (<c>{"format":"opaque","id":...}</c>)
/// names one provider session of the user: only that session is revoked.
/// </summary>
internal static class CaepEventParser
{
    /// <summary>The events of <paramref name="token"/>, or the reason the SET does not conform.</summary>
    public static (IReadOnlyList<SignalEvent> Events, string? Problem) Parse(JsonWebToken token, DateTimeOffset issuedAt)
    {
        ArgumentNullException.ThrowIfNull(token);
        JsonDocument payload;
        try
        {
            // JsonDocument checks the UTF-8 of a string only when it is read: a bad byte in a member name would throw then.
            var bytes = Base64UrlEncoder.DecodeBytes(token.EncodedPayload);
            if (!System.Text.Unicode.Utf8.IsValid(bytes))
            {
                return ([], "the payload is not UTF-8");
            }

            payload = JsonDocument.Parse(bytes);
        }
        catch (Exception ex) when (ex is JsonException or FormatException or ArgumentException)
        {
            return ([], "the payload is not JSON");
        }

        using (payload)
        {
            var root = payload.RootElement;
            if (!root.TryGetProperty("events", out var events) || events.ValueKind != JsonValueKind.Object)
            {
                return ([], "the SET has no events object");
            }

            JsonElement? setSubject = root.TryGetProperty("sub_id", out var subId) ? subId : null;
            var parsed = new List<SignalEvent>();
            foreach (var member in events.EnumerateObject())
            {
                var (signal, problem) = ParseEvent(member.Name, member.Value, setSubject, issuedAt);
                if (problem is not null)
                {
                    return ([], problem);
                }

                parsed.Add(signal!);
            }

            return parsed.Count == 0 ? ([], "the events object is empty") : (parsed, null);
        }
    }

    private static (SignalEvent?, string?) ParseEvent(string type, JsonElement body, JsonElement? setSubject, DateTimeOffset issuedAt)
    {
        if (type.Length == 0)
        {
            return (null, "an event type must be a URI, not empty");
        }

        var known = type is CaepEventTypes.SessionRevoked or CaepEventTypes.CredentialChange
            or CaepEventTypes.AssuranceLevelChange or CaepEventTypes.DeviceComplianceChange;
        if (!known)
        {
            return (new SignalEvent(type, SignalAction.None, null, null, issuedAt), null);
        }

        var name = type[CaepEventTypes.Prefix.Length..];
        if (body.ValueKind != JsonValueKind.Object)
        {
            return (null, name + ": the event payload must be an object");
        }

        var at = issuedAt;
        if (body.TryGetProperty("event_timestamp", out var timestamp))
        {
            if (timestamp.ValueKind != JsonValueKind.Number || !timestamp.TryGetDouble(out var seconds) || seconds < 0 || seconds > 253402300799)
            {
                return (null, name + ": event_timestamp must be a NumericDate");
            }

            at = DateTimeOffset.FromUnixTimeMilliseconds((long)(seconds * 1000));
        }

        JsonElement? subject = body.TryGetProperty("subject", out var own) ? own : setSubject;
        if (subject is null)
        {
            return (null, name + ": the event names no subject");
        }

        if (type == CaepEventTypes.DeviceComplianceChange)
        {
            var device = DeviceOf(subject.Value);
            if (device is null)
            {
                return (null, name + ": the subject must be a device ({\"format\":\"opaque\",\"id\":...} or complex with device)");
            }

            var status = body.TryGetProperty("current_status", out var current) && current.ValueKind == JsonValueKind.String ? current.GetString() : null;
            return status switch
            {
                "not-compliant" => (new SignalEvent(type, SignalAction.QuarantineDevice, null, device, at), null),
                "compliant" => (new SignalEvent(type, SignalAction.ReleaseDevice, null, device, at), null),
                _ => (null, name + ": current_status must be compliant or not-compliant"),
            };
        }

        var user = UserOf(subject.Value);
        if (user is null)
        {
            return (null, name + ": the subject must be a user ({\"format\":\"iss_sub\",...} or complex with user)");
        }

        if (type == CaepEventTypes.AssuranceLevelChange)
        {
            // A stronger authentication needs no step-up; anything else (decrease, or unspecified) does.
            var increase = body.TryGetProperty("change_direction", out var direction)
                && direction.ValueKind == JsonValueKind.String && direction.GetString() == "increase";
            return (new SignalEvent(type, increase ? SignalAction.None : SignalAction.StepUp, user, null, at), null);
        }

        if (subject.Value.ValueKind == JsonValueKind.Object && Format(subject.Value) == "complex" && subject.Value.TryGetProperty("session", out var session))
        {
            // A session named but unreadable must not widen into revoking every session of the person, nor be ignored.
            return Format(session) == "opaque" && Text(session, "id") is { } sid
                ? (new SignalEvent(type, SignalAction.RevokeSession, user, null, at) { Session = sid }, null)
                : (null, name + ": the subject's session must be {\"format\":\"opaque\",\"id\":...}");
        }

        return (new SignalEvent(type, SignalAction.Revoke, user, null, at), null);
    }

    private static SubjectKey? UserOf(JsonElement subject)
    {
        return Format(subject) switch
        {
            "iss_sub" when Text(subject, "iss") is { } iss && Text(subject, "sub") is { } sub => new SubjectKey(iss, sub),
            "complex" when subject.TryGetProperty("user", out var user) && Format(user) == "iss_sub" => UserOf(user),
            _ => null,
        };
    }

    private static string? DeviceOf(JsonElement subject)
    {
        return Format(subject) switch
        {
            "opaque" => Text(subject, "id"),
            "complex" when subject.TryGetProperty("device", out var device) && Format(device) == "opaque" => Text(device, "id"),
            _ => null,
        };
    }

    // Early Shared Signals drafts called the member subject_type.
    private static string? Format(JsonElement subject) =>
        subject.ValueKind != JsonValueKind.Object ? null : Text(subject, "format") ?? Text(subject, "subject_type");

    private static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text ? text : null;
}
