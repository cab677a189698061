using ZtGateway.Policy.Configuration;

namespace ZtGateway.Policy.Loading.Yaml;

/// <summary>
/// A node of a parsed YAML document with the place it was written. Unlike YamlDotNet's representation model,
/// a mapping keeps duplicate keys, so that every one of them can be reported rather than only the first.
/// </summary>
internal abstract class Node(SourceLocation location)
{
    public SourceLocation Location { get; } = location;

    /// <summary>How the node is named in messages ("a list", ...).</summary>
    public abstract string KindName { get; }
}

/// <summary>A scalar. <see cref="IsNull"/> is set for a plain empty value, <c>~</c> or <c>null</c>.</summary>
internal sealed class ScalarNode(SourceLocation location, string value, bool isNull) : Node(location)
{
    public string Value { get; } = value;

    public bool IsNull { get; } = isNull;

    public override string KindName => "a single value";
}

/// <summary>A sequence, in document order.</summary>
internal sealed class SequenceNode(SourceLocation location, IReadOnlyList<Node> items) : Node(location)
{
    public IReadOnlyList<Node> Items { get; } = items;

    public override string KindName => "a list";
}

/// <summary>A mapping, in document order, duplicates included.</summary>
internal sealed class MappingNode(SourceLocation location, IReadOnlyList<MappingEntry> entries) : Node(location)
{
    public IReadOnlyList<MappingEntry> Entries { get; } = entries;

    public override string KindName => "a mapping";
}

/// <summary>One key/value pair of a mapping.</summary>
internal sealed record MappingEntry(Node Key, Node Value);
