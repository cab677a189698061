using ZtGateway.Policy.Configuration;

namespace ZtGateway.Policy.Loading;

/// <summary>How bad a configuration problem is.</summary>
public enum DiagnosticSeverity
{
    /// <summary>The policy cannot be used.</summary>
    Error,

    /// <summary>The policy can be used but something deserves a look (an expired grant, say).</summary>
    Warning,
}

/// <summary>One configuration problem, tied to where it was written.</summary>
public sealed record Diagnostic(DiagnosticSeverity Severity, SourceLocation Location, string Message)
{
    /// <summary>
    /// <c>path/file.yaml:LINE:COL: error: message</c>, with the path relative to <paramref name="relativeTo"/>
    /// when the file lies below it.
    /// </summary>
    public string Format(string? relativeTo = null)
    {
        var file = Location.File;
        if (relativeTo is not null && file.Length > 0)
        {
            var relative = Path.GetRelativePath(relativeTo, file);
            if (!relative.StartsWith("..", StringComparison.Ordinal) && !Path.IsPathRooted(relative))
            {
                file = relative;
            }
        }

        var severity = Severity == DiagnosticSeverity.Error ? "error" : "warning";
        return $"{file}:{Location.Line}:{Location.Column}: {severity}: {Message}";
    }

    /// <inheritdoc/>
    public override string ToString() => Format();
}

/// <summary>One policy file as the loader read it: its full path and the SHA-256 of its bytes.</summary>
/// <param name="Path">The full path the file was read from.</param>
/// <param name="Sha256">SHA-256 of the bytes read, in lowercase hex.</param>
public sealed record PolicyFileDigest(string Path, string Sha256);

/// <summary>The outcome of loading a policy: the policy when there were no errors, and every diagnostic found.</summary>
public sealed record PolicyLoadResult(PolicySet? Policy, IReadOnlyList<Diagnostic> Diagnostics)
{
    /// <summary>True when the policy loaded without errors (warnings allowed).</summary>
    public bool Succeeded => Policy is not null && !Diagnostics.Any(d => d.Severity == DiagnosticSeverity.Error);

    /// <summary>
    /// Every file read, gateway.yaml first, then the segment files in load order, whether or not the load succeeded.
    /// A file that could not be read is not listed.
    /// </summary>
    public IReadOnlyList<PolicyFileDigest> Files { get; init; } = [];

    /// <summary>
    /// The version the files read hash to, computed as <see cref="PolicySet.Version"/> is (equal to it when the load
    /// succeeded): also known for a refused load, so that the refused edit can be named. Null when gateway.yaml could
    /// not be read.
    /// </summary>
    public string? Version { get; init; }
}
