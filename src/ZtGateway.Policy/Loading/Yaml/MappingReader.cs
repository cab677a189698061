using ZtGateway.Policy.Configuration;

namespace ZtGateway.Policy.Loading.Yaml;

/// <summary>
/// Reads the keys of one mapping and remembers which were asked for, so that <see cref="Complete"/> can report
/// duplicate and unknown keys.
/// </summary>
internal sealed class MappingReader
{
    private readonly NodeReader reader;
    private readonly MappingNode node;
    private readonly Dictionary<string, MappingEntry> firstByKey = new(StringComparer.Ordinal);
    private readonly HashSet<string> read = new(StringComparer.Ordinal);

    public MappingReader(NodeReader reader, MappingNode node)
    {
        this.reader = reader;
        this.node = node;
        foreach (var entry in node.Entries)
        {
            if (entry.Key is ScalarNode key)
            {
                firstByKey.TryAdd(key.Value, entry);
            }
        }
    }

    public SourceLocation Location => node.Location;

    /// <summary>The value of <paramref name="key"/>, or null when the key is absent. Marks the key as known.</summary>
    public Node? Get(string key)
    {
        read.Add(key);
        return firstByKey.TryGetValue(key, out var entry) ? entry.Value : null;
    }

    /// <summary>True when <paramref name="key"/> is written with a non-null value.</summary>
    public bool Has(string key) =>
        firstByKey.TryGetValue(key, out var entry) && entry.Value is not ScalarNode { IsNull: true };

    /// <summary>Where <paramref name="key"/> itself is written, or the mapping's location when it is absent.</summary>
    public SourceLocation KeyLocation(string key) =>
        firstByKey.TryGetValue(key, out var entry) ? entry.Key.Location : node.Location;

    /// <summary>
    /// The value of a required key. When the key is absent, reports it at the mapping; when its value is empty,
    /// at the key.
    /// </summary>
    public Node? Required(string key, string where)
    {
        var value = Get(key);
        if (value is null)
        {
            reader.Error(node.Location, $"missing required key '{key}' in {where}");
            return null;
        }

        if (value is ScalarNode { IsNull: true })
        {
            reader.Error(KeyLocation(key), $"missing value for '{key}' in {where}");
            return null;
        }

        return value;
    }

    /// <summary>
    /// Every entry with a single-value key, first occurrence only, for mappings whose keys are names (services).
    /// Marks them all as known.
    /// </summary>
    public IEnumerable<(ScalarNode Key, Node Value)> Entries()
    {
        foreach (var entry in firstByKey.Values)
        {
            read.Add(((ScalarNode)entry.Key).Value);
            yield return ((ScalarNode)entry.Key, entry.Value);
        }
    }

    /// <summary>Reports keys that are not single values, duplicate keys and keys no one asked for.</summary>
    public void Complete(string where)
    {
        foreach (var entry in node.Entries)
        {
            if (entry.Key is not ScalarNode key)
            {
                reader.Error(entry.Key.Location, $"keys in {where} must be single values, not {entry.Key.KindName}");
                continue;
            }

            var first = firstByKey[key.Value];
            if (!ReferenceEquals(first, entry))
            {
                reader.Error(key.Location, $"duplicate key '{key.Value}' in {where} (first at line {first.Key.Location.Line})");
            }
            else if (!read.Contains(key.Value))
            {
                reader.Error(key.Location, $"unknown key '{key.Value}' in {where}");
            }
        }
    }
}
