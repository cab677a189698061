namespace ZtGateway.Policy.Analysis.Rendering;

/// <summary>Output formats of the analysis reports. Every report has <see cref="Text"/> and <see cref="Json"/>; the diagrams only the graphs.</summary>
public enum ReportFormat
{
    /// <summary>An indented listing for people.</summary>
    Text,

    /// <summary>A Mermaid flowchart (renders in Markdown on most forges).</summary>
    Mermaid,

    /// <summary>Graphviz DOT.</summary>
    Dot,

    /// <summary>JSON for machines.</summary>
    Json,
}
