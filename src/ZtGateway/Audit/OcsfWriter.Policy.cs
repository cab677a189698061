using System.Text.Json;

namespace ZtGateway.Audit;

/// <summary>
/// OCSF lines for the policy itself: the policy a start put in force (Activate) and each reload, applied or refused
/// (Update), as Entity Management (class 3004) on the policy entity, acted on by the gateway (docs/design.md section 6.2).
/// </summary>
internal static partial class OcsfWriter
{
    /// <summary>At most this many changes are listed in a line; the rest are counted in <c>changes_truncated</c>.</summary>
    public const int MaxPolicyChanges = 50;

    /// <summary>At most this many diagnostics are listed in a line; the rest are counted in <c>diagnostics_truncated</c>.</summary>
    public const int MaxPolicyDiagnostics = 20;

    // How many diagnostics the message repeats.
    private const int MessageDiagnostics = 3;

    private const string PolicyEntityName = "ZtGateway policy";

    public static byte[] PolicyChange(PolicyChangeEvent change)
    {
        ArgumentNullException.ThrowIfNull(change);
        var (activity, activityName) = change.Change == PolicyChangeKind.Start ? (10, "Activate") : (3, "Update");
        var refused = change.Change == PolicyChangeKind.Refused;

        // Medium when the SOC should look: access opened or weakened, an edit refused, or a change whose effect is unknown.
        var medium = refused || (change.Change == PolicyChangeKind.Reload && change.Summary is not { Opens: false });
        var inForce = refused ? change.OldVersion : change.NewVersion;
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
            json.WriteNumber("severity_id", medium ? 3 : 1);
            json.WriteString("severity", medium ? "Medium" : "Informational");
            json.WriteNumber("status_id", refused ? 2 : 1);
            json.WriteString("status", refused ? "Failure" : "Success");
            if (refused)
            {
                json.WriteString("status_detail", change.Refusal ?? "policy-invalid");
            }

            json.WriteString("message", PolicyMessage(change));
            Metadata(json, change.ChangeId, "host");

            // The policy the change is about (put in force, or refused), and the policy in force after it.
            PolicyEntity(json, "entity", change.NewVersion);
            PolicyEntity(json, "entity_result", inForce);

            json.WriteStartObject("actor");
            json.WriteString("app_name", "ztgw");
            json.WriteEndObject();

            json.WriteStartObject("unmapped");
            json.WriteStartObject("ztgw");
            json.WriteString("change", change.Change.ToCode());
            WriteIfSet(json, "old_version", change.OldVersion);
            WriteIfSet(json, "new_version", change.NewVersion);
            if (change.Files.Count > 0)
            {
                json.WriteStartArray("files");
                foreach (var file in change.Files)
                {
                    json.WriteStartObject();
                    json.WriteString("path", file.Path);
                    json.WriteString("sha256", file.Sha256);
                    json.WriteEndObject();
                }

                json.WriteEndArray();
            }

            if (change.Summary is { } summary)
            {
                json.WriteNumber("opened", summary.Opened);
                json.WriteNumber("weakened", summary.Weakened);
                json.WriteNumber("closed", summary.Closed);
                json.WriteNumber("tightened", summary.Tightened);
                WriteCapped(json, "changes", summary.Changes, MaxPolicyChanges);
            }

            WriteIfSet(json, "diff_error", change.SummaryError);
            WriteCapped(json, "diagnostics", change.Diagnostics, MaxPolicyDiagnostics);
            json.WriteEndObject();
            json.WriteEndObject();
        });
    }

    private static string PolicyMessage(PolicyChangeEvent change)
    {
        var version = change.NewVersion ?? "(unreadable)";
        switch (change.Change)
        {
            case PolicyChangeKind.Start:
                return $"policy {version} put in force at start";
            case PolicyChangeKind.Reload:
                var effect = change.Summary switch
                {
                    null => "what it opens and closes is unknown (the comparison failed)",
                    { Changes.Count: 0 } => "no access path changed",
                    { } s => $"{s.Opened} opened, {s.Weakened} weakened, {s.Closed} closed, {s.Tightened} tightened",
                };
                return $"policy {version} replaces {change.OldVersion}: {effect}";
            default:
                var shown = string.Join("; ", change.Diagnostics.Take(MessageDiagnostics));
                var more = change.Diagnostics.Count > MessageDiagnostics ? $" (and {change.Diagnostics.Count - MessageDiagnostics} more)" : string.Empty;
                return $"policy {version} refused; policy {change.OldVersion} keeps serving" + (shown.Length == 0 ? string.Empty : ": " + shown + more);
        }
    }

    // A managed entity of type Policy (5), with its policy object: uid and version are the policy version.
    private static void PolicyEntity(Utf8JsonWriter json, string name, string? version)
    {
        json.WriteStartObject(name);
        json.WriteString("name", PolicyEntityName);
        WriteIfSet(json, "uid", version);
        json.WriteNumber("type_id", 5);
        json.WriteString("type", "Policy");
        WriteIfSet(json, "version", version);
        json.WriteStartObject("policy");
        json.WriteString("name", PolicyEntityName);
        WriteIfSet(json, "uid", version);
        WriteIfSet(json, "version", version);
        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static void WriteCapped(Utf8JsonWriter json, string name, IReadOnlyList<string> values, int max)
    {
        if (values.Count == 0)
        {
            return;
        }

        json.WriteStartArray(name);
        foreach (var value in values.Take(max))
        {
            json.WriteStringValue(value);
        }

        json.WriteEndArray();
        if (values.Count > max)
        {
            json.WriteNumber(name + "_truncated", values.Count - max);
        }
    }
}
