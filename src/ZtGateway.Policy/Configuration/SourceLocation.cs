namespace ZtGateway.Policy.Configuration;

/// <summary>Where a configuration node was written: a file, 1-based line and column.</summary>
public sealed record SourceLocation(string File, int Line, int Column)
{
    /// <summary>A location for values that were not written anywhere (built-in defaults).</summary>
    public static SourceLocation None { get; } = new(string.Empty, 0, 0);

    /// <inheritdoc/>
    public override string ToString() => $"{File}:{Line}:{Column}";
}
