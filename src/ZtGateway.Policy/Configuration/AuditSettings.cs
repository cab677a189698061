namespace ZtGateway.Policy.Configuration;

/// <summary>The <c>audit:</c> section.</summary>
public sealed record AuditSettings
{
    /// <summary><c>stdout</c> or <c>file:PATH</c> (PATH resolved to absolute). Defaults to stdout.</summary>
    public IReadOnlyList<string> Sinks { get; init; } = ["stdout"];

    /// <summary>Whether allowed decisions are audited too. Defaults to true.</summary>
    public bool Allows { get; init; } = true;
}
