namespace ZtGateway.Policy.Analysis;

/// <summary>Writes a <see cref="PolicyDiffReport"/> for people or, as JSON, for machines.</summary>
public static class DiffRenderer
{
    /// <summary>Writes <paramref name="report"/>: grouped by segment pair, one line per change, then a summary.</summary>
    public static void Render(PolicyDiffReport report, bool json, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(output);
        if (json)
        {
            Json(report, output);
            return;
        }

        string? pair = null;
        foreach (var change in report.Changes)
        {
            var current = $"{change.SourceSegment} -> {change.DestinationSegment}";
            if (current != pair)
            {
                output.WriteLine(current);
                pair = current;
            }

            var details = change.Details.Count == 0 ? string.Empty : ": " + string.Join("; ", change.Details);
            var rule = change.Rule is null ? string.Empty : $", rule {change.Rule}";
            output.WriteLine($"  {Verb(change.Kind),-9} {Methods(change)} {change.Path} (route {change.RouteId}{rule}) for {change.Principal}{details}");
        }

        output.WriteLine(report.Changes.Count == 0 ? "No access path changed." : Summary(report));
    }

    private static string Summary(PolicyDiffReport report)
    {
        int Count(AccessChangeKind kind) => report.Changes.Count(c => c.Kind == kind);
        return $"{Count(AccessChangeKind.Opened)} opened, {Count(AccessChangeKind.Weakened)} weakened, " +
            $"{Count(AccessChangeKind.Closed)} closed, {Count(AccessChangeKind.Tightened)} tightened";
    }

    private static string Verb(AccessChangeKind kind) => kind switch
    {
        AccessChangeKind.Opened => "opens",
        AccessChangeKind.Weakened => "weakens",
        AccessChangeKind.Closed => "closes",
        _ => "tightens",
    };

    private static string Methods(AccessChange change) => change.AnyMethod ? "*" : string.Join(',', change.Methods);

    private static void Json(PolicyDiffReport report, TextWriter output) => GraphRenderer.WriteJson(output, json =>
    {
        json.WriteStartObject();
        json.WriteBoolean("opens", report.Opens);
        json.WriteStartArray("changes");
        foreach (var change in report.Changes)
        {
            json.WriteStartObject();
            json.WriteString("change", Verb(change.Kind));
            json.WriteString("source", change.SourceSegment);
            json.WriteString("destination", change.DestinationSegment);
            json.WriteString("route", change.RouteId);
            json.WriteString("path", change.Path);
            GraphRenderer.Strings(json, "methods", change.Methods);
            json.WriteBoolean("anyMethod", change.AnyMethod);
            json.WriteString("principal", change.Principal);
            json.WriteString("rule", change.Rule);
            GraphRenderer.Strings(json, "details", change.Details);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    });
}
