using ZtGateway.Policy.Configuration;

namespace ZtGateway.Policy.Loading;

/// <summary>Collects every problem found while loading, so that one run reports them all.</summary>
internal sealed class DiagnosticBag
{
    private readonly List<Diagnostic> items = [];

    public bool HasErrors => items.Exists(d => d.Severity == DiagnosticSeverity.Error);

    /// <summary>How many errors were recorded so far: a mapper compares it before and after reading an entry.</summary>
    public int ErrorCount => items.Count(d => d.Severity == DiagnosticSeverity.Error);

    public void Error(SourceLocation location, string message) =>
        items.Add(new Diagnostic(DiagnosticSeverity.Error, location, message));

    public void Warning(SourceLocation location, string message) =>
        items.Add(new Diagnostic(DiagnosticSeverity.Warning, location, message));

    /// <summary>The diagnostics by file, line and column; equal positions keep the order they were found in.</summary>
    public IReadOnlyList<Diagnostic> Sorted() =>
        [.. items
            .OrderBy(d => d.Location.File, StringComparer.Ordinal)
            .ThenBy(d => d.Location.Line)
            .ThenBy(d => d.Location.Column)];
}
