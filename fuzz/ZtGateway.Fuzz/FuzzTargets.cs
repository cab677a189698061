using ZtGateway.Fuzz.Targets;

namespace ZtGateway.Fuzz;

/// <summary>Every target by name; the afl-fuzz entry point and the corpus replay tests make them here.</summary>
public static class FuzzTargets
{
    private static readonly Dictionary<string, Func<IFuzzTarget>> Factories = new(StringComparer.Ordinal)
    {
        ["policy-gateway"] = PolicyLoaderTarget.Gateway,
        ["policy-segment"] = PolicyLoaderTarget.Segment,
        ["token"] = () => new BearerTokenTarget(),
        ["posture"] = () => new PostureAssertionTarget(),
        ["set"] = () => new SecurityEventTarget(),
        ["path"] = () => new RequestPathTarget(),
    };

    /// <summary>The target names, in the order the README lists them.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. Factories.Keys];

    /// <summary>Makes the target called <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">No target has that name.</exception>
    public static IFuzzTarget Create(string name) =>
        Factories.TryGetValue(name, out var factory)
            ? factory()
            : throw new ArgumentException($"unknown target '{name}'; targets: {string.Join(", ", Names)}", nameof(name));
}
