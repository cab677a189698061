using System.Globalization;
using System.Net;
using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Loading.Values;

namespace ZtGateway.Policy.Loading.Yaml;

/// <summary>
/// Reads typed values out of nodes and records a diagnostic for each one that is of the wrong kind or malformed.
/// Every method returns null for an absent or null node (the caller applies the default) and for a bad one
/// (the caller goes on, so that later problems are found too). Messages carry the reader's scope, e.g. "rule 'x': ".
/// </summary>
internal sealed class NodeReader
{
    private readonly string prefix;

    public NodeReader(DiagnosticBag diagnostics, string? scope = null)
    {
        Diagnostics = diagnostics;
        prefix = scope is null ? string.Empty : scope + ": ";
    }

    public DiagnosticBag Diagnostics { get; }

    /// <summary>A reader whose messages start with <paramref name="scope"/>.</summary>
    public NodeReader Scoped(string scope) => new(Diagnostics, scope);

    public void Error(SourceLocation location, string message) => Diagnostics.Error(location, prefix + message);

    public void Warning(SourceLocation location, string message) => Diagnostics.Warning(location, prefix + message);

    public MappingReader? Mapping(Node? node, string name)
    {
        switch (node)
        {
            case null or ScalarNode { IsNull: true }:
                return null;
            case MappingNode mapping:
                return new MappingReader(this, mapping);
            default:
                WrongKind(node, name, "a mapping");
                return null;
        }
    }

    public SequenceNode? Sequence(Node? node, string name)
    {
        switch (node)
        {
            case null or ScalarNode { IsNull: true }:
                return null;
            case SequenceNode sequence:
                return sequence;
            default:
                WrongKind(node, name, "a list");
                return null;
        }
    }

    public ScalarNode? Scalar(Node? node, string name)
    {
        switch (node)
        {
            case null or ScalarNode { IsNull: true }:
                return null;
            case ScalarNode scalar:
                return scalar;
            default:
                WrongKind(node, name, "a single value");
                return null;
        }
    }

    public string? String(Node? node, string name) => Scalar(node, name)?.Value;

    /// <summary>A string that must hold something other than white space.</summary>
    public string? NonEmptyString(Node? node, string name)
    {
        var scalar = Scalar(node, name);
        if (scalar is not null && string.IsNullOrWhiteSpace(scalar.Value))
        {
            Error(scalar.Location, $"'{name}' must not be empty");
            return null;
        }

        return scalar?.Value;
    }

    /// <summary>A list of non-empty single values; bad entries are reported and left out.</summary>
    public IReadOnlyList<ScalarNode>? ScalarList(Node? node, string name)
    {
        var sequence = Sequence(node, name);
        if (sequence is null)
        {
            return null;
        }

        var values = new List<ScalarNode>(sequence.Items.Count);
        foreach (var item in sequence.Items)
        {
            if (item is not ScalarNode scalar)
            {
                Error(item.Location, $"each entry of '{name}' must be a single value, not {item.KindName}");
            }
            else if (scalar.IsNull || string.IsNullOrWhiteSpace(scalar.Value))
            {
                Error(item.Location, $"'{name}' has an empty entry");
            }
            else
            {
                values.Add(scalar);
            }
        }

        return values;
    }

    public IReadOnlyList<string>? StringList(Node? node, string name) =>
        ScalarList(node, name)?.Select(s => s.Value).ToArray();

    /// <summary>A list that, when written, must have at least one entry.</summary>
    public IReadOnlyList<string>? NonEmptyStringList(Node? node, string name, string what)
    {
        var values = StringList(node, name);
        if (values is { Count: 0 } && node is SequenceNode { Items.Count: 0 })
        {
            Error(node.Location, $"'{name}' must name at least one {what}");
        }

        return values;
    }

    public bool? Bool(Node? node, string name)
    {
        var scalar = Scalar(node, name);
        switch (scalar?.Value)
        {
            case null:
                return null;
            case "true" or "True" or "TRUE":
                return true;
            case "false" or "False" or "FALSE":
                return false;
            default:
                Error(scalar.Location, $"'{name}' must be true or false, not '{scalar.Value}'");
                return null;
        }
    }

    public int? PositiveInt(Node? node, string name)
    {
        var scalar = Scalar(node, name);
        if (scalar is null)
        {
            return null;
        }

        if (int.TryParse(scalar.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value > 0)
        {
            return value;
        }

        Error(scalar.Location, $"'{name}' must be a positive whole number, not '{scalar.Value}'");
        return null;
    }

    /// <summary>A duration; <paramref name="positive"/> rejects zero, <paramref name="max"/> caps it.</summary>
    public TimeSpan? Duration(Node? node, string name, bool positive, TimeSpan? max = null)
    {
        var scalar = Scalar(node, name);
        if (scalar is null)
        {
            return null;
        }

        if (!DurationParser.TryParse(scalar.Value, out var value))
        {
            Error(scalar.Location, $"invalid duration '{scalar.Value}' for '{name}' (use e.g. 30s, 15m, 12h)");
            return null;
        }

        if (positive && value == TimeSpan.Zero)
        {
            Error(scalar.Location, $"'{name}' must be longer than zero");
            return null;
        }

        if (max is { } limit && value > limit)
        {
            Error(scalar.Location, $"'{name}' must be at most {DurationFormat.Format(limit)}, not '{scalar.Value}'");
            return null;
        }

        return value;
    }

    /// <summary>One of a fixed set of words, matched exactly.</summary>
    public T? Choice<T>(Node? node, string name, params (string Word, T Value)[] choices)
        where T : struct
    {
        var word = ChoiceWord(node, name, [.. choices.Select(c => c.Word)]);
        return word is null ? null : choices.First(c => c.Word == word).Value;
    }

    /// <summary>One of <paramref name="words"/>, matched exactly; returns the word.</summary>
    public string? ChoiceWord(Node? node, string name, params string[] words)
    {
        var scalar = Scalar(node, name);
        if (scalar is null)
        {
            return null;
        }

        if (words.Contains(scalar.Value, StringComparer.Ordinal))
        {
            return scalar.Value;
        }

        Error(scalar.Location, $"'{name}' must be {Alternatives(words)}, not '{scalar.Value}'");
        return null;
    }

    /// <summary>A list of CIDR networks; bad entries are reported and left out.</summary>
    public IReadOnlyList<IPNetwork>? CidrList(Node? node, string name)
    {
        var items = ScalarList(node, name);
        if (items is null)
        {
            return null;
        }

        var networks = new List<IPNetwork>(items.Count);
        foreach (var item in items)
        {
            if (CidrParser.TryParse(item.Value, out var network, out var detail))
            {
                networks.Add(network);
            }
            else
            {
                Error(item.Location, $"invalid CIDR '{item.Value}' in '{name}'" + (detail is null ? string.Empty : $": {detail}"));
            }
        }

        return networks;
    }

    /// <summary>An absolute http or https URL.</summary>
    public string? HttpUrl(Node? node, string name)
    {
        var scalar = Scalar(node, name);
        if (scalar is null)
        {
            return null;
        }

        if (!HttpSyntax.IsHttpUrl(scalar.Value))
        {
            Error(scalar.Location, $"'{name}' must be an absolute http or https URL, not '{scalar.Value}'");
            return null;
        }

        return scalar.Value;
    }

    /// <summary>A file or folder path, resolved against <paramref name="baseDirectory"/>.</summary>
    public string? ResolvedPath(Node? node, string name, string baseDirectory)
    {
        var text = NonEmptyString(node, name);
        if (text is null)
        {
            return null;
        }

        if (ResolvePath(baseDirectory, text) is { } full)
        {
            return full;
        }

        Error(node!.Location, $"'{name}' is not a valid path: '{text}'");
        return null;
    }

    /// <summary>An HTTP header name.</summary>
    public string? HeaderName(Node? node, string name)
    {
        var text = NonEmptyString(node, name);
        if (text is not null && !HttpSyntax.IsToken(text))
        {
            Error(node!.Location, $"'{name}' must be an HTTP header name, not '{text}'");
            return null;
        }

        return text;
    }

    public static string? ResolvePath(string baseDirectory, string path)
    {
        try
        {
            return System.IO.Path.GetFullPath(path, baseDirectory);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            return null;
        }
    }

    /// <summary>"a", "a or b", "a, b or c".</summary>
    public static string Alternatives(IEnumerable<string> words)
    {
        var list = words.ToList();
        return list.Count <= 1 ? string.Concat(list) : string.Join(", ", list.Take(list.Count - 1)) + " or " + list[^1];
    }

    private void WrongKind(Node node, string name, string expected) =>
        Error(node.Location, $"'{name}' must be {expected}, not {node.KindName}");
}
