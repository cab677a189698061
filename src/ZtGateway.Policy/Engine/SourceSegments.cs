using System.Collections.Frozen;

namespace ZtGateway.Policy.Engine;

/// <summary>
/// The names a caller can be placed in, numbered so that rules keep their <c>from</c> as a flag array: every
/// segment of the policy, then <c>unknown</c>. A device may name a segment outside the policy; it has no index.
/// </summary>
internal sealed class SourceSegments
{
    /// <summary>The source segment of a caller that nothing places.</summary>
    public const string Unknown = "unknown";

    /// <summary>The <c>from</c> entry that names every source.</summary>
    public const string Any = "*";

    private readonly string[] names;
    private readonly FrozenDictionary<string, int> indexes;

    /// <summary>Numbers <paramref name="segmentNames"/> in order and adds <c>unknown</c>.</summary>
    public SourceSegments(IReadOnlyList<string> segmentNames)
    {
        names = new string[segmentNames.Count + 1];
        var map = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < segmentNames.Count; i++)
        {
            names[i] = segmentNames[i];
            map.TryAdd(segmentNames[i], i);
        }

        names[^1] = Unknown;

        // A segment that happens to be called "unknown" and the unplaced callers are one source.
        UnknownIndex = map.TryGetValue(Unknown, out var existing) ? existing : names.Length - 1;
        map.TryAdd(Unknown, UnknownIndex);
        indexes = map.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>Number of indexes (segments plus <c>unknown</c>).</summary>
    public int Count => names.Length;

    /// <summary>Index of <c>unknown</c>.</summary>
    public int UnknownIndex { get; }

    /// <summary>The name at <paramref name="index"/>.</summary>
    public string NameOf(int index) => names[index];

    /// <summary>The index of a segment name or <c>unknown</c>.</summary>
    public bool TryGetIndex(string name, out int index) => indexes.TryGetValue(name, out index);
}
