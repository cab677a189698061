namespace ZtGateway.Policy.Analysis.Rendering;

/// <summary>
/// Writes the analysis reports. One renderer per format does the writing (<see cref="TextRenderer"/>,
/// <see cref="JsonRenderer"/>, <see cref="MermaidRenderer"/>, <see cref="DotRenderer"/>); this picks it.
/// </summary>
public static class ReportRenderer
{
    /// <summary>Writes <paramref name="graph"/> as <paramref name="format"/>.</summary>
    public static void Render(ReachabilityGraph graph, ReportFormat format, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(output);
        switch (format)
        {
            case ReportFormat.Mermaid:
                MermaidRenderer.Graph(graph, output);
                break;
            case ReportFormat.Dot:
                DotRenderer.Graph(graph, output);
                break;
            case ReportFormat.Json:
                JsonRenderer.Graph(graph, output);
                break;
            default:
                TextRenderer.Graph(graph, output);
                break;
        }
    }

    /// <summary>Writes <paramref name="report"/> as <paramref name="format"/>.</summary>
    public static void Render(BlastRadiusReport report, ReportFormat format, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(output);
        switch (format)
        {
            case ReportFormat.Mermaid:
                MermaidRenderer.BlastRadius(report, output);
                break;
            case ReportFormat.Dot:
                DotRenderer.BlastRadius(report, output);
                break;
            case ReportFormat.Json:
                JsonRenderer.BlastRadius(report, output);
                break;
            default:
                TextRenderer.BlastRadius(report, output);
                break;
        }
    }

    /// <summary>Writes <paramref name="report"/> as <see cref="ReportFormat.Text"/> or <see cref="ReportFormat.Json"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="format"/> is a diagram format.</exception>
    public static void Render(PolicyDiffReport report, ReportFormat format, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(output);
        switch (format)
        {
            case ReportFormat.Text:
                TextRenderer.Diff(report, output);
                break;
            case ReportFormat.Json:
                JsonRenderer.Diff(report, output);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(format), format, "A policy diff is written as text or json.");
        }
    }

    /// <summary>
    /// One change of a policy diff as a single line of text, in the words of the text diff:
    /// <c>finance -> hr: opens GET /payroll/{id} (route payroll-read, rule hr-staff) for group hr-staff</c>.
    /// </summary>
    public static string Line(AccessChange change)
    {
        ArgumentNullException.ThrowIfNull(change);
        return $"{change.SourceSegment} -> {change.DestinationSegment}: {Labels.Verb(change.Kind)} {TextRenderer.Change(change)}";
    }

    /// <summary>Writes <paramref name="report"/> as <see cref="ReportFormat.Text"/> or <see cref="ReportFormat.Json"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="format"/> is a diagram format.</exception>
    public static void Render(ExplainReport report, ReportFormat format, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(output);
        switch (format)
        {
            case ReportFormat.Text:
                TextRenderer.Explain(report, output);
                break;
            case ReportFormat.Json:
                JsonRenderer.Explain(report, output);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(format), format, "An explanation is written as text or json.");
        }
    }
}
