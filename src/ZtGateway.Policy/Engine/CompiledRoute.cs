using System.Collections.Frozen;
using ZtGateway.Policy.Configuration;

namespace ZtGateway.Policy.Engine;

/// <summary>A route ready for decisions: its template parsed, its methods a set, its rules compiled. Immutable.</summary>
internal sealed class CompiledRoute
{
    // Per principal kind (user, workload): which sources some allow rule for that kind names.
    private readonly bool[][] namedSources;
    private readonly bool[] anySourceNamed;

    /// <summary>Compiles <paramref name="config"/> of segment <paramref name="segment"/>.</summary>
    /// <exception cref="ArgumentException">The path template cannot be parsed.</exception>
    public CompiledRoute(SegmentConfig segment, PolicyRoute config, int order, SourceSegments sources)
    {
        Config = config;
        Order = order;
        if (!CompiledPathTemplate.TryParse(config.Match.Path, out var template, out var error))
        {
            throw new ArgumentException($"segment {segment.Name}, route {config.Id}: {error}", nameof(config));
        }

        Template = template!;
        Methods = config.Match.Methods.Count == 0 ? null : config.Match.Methods.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

        var slot = 0;
        Deny = new CompiledRule[config.Deny.Count];
        for (var i = 0; i < Deny.Length; i++)
        {
            Deny[i] = new CompiledRule(config.Deny[i], isDeny: true, slot++, segment.Defaults, sources);
        }

        Allow = new CompiledRule[config.Allow.Count];
        namedSources = [new bool[sources.Count], new bool[sources.Count]];
        anySourceNamed = new bool[2];
        for (var i = 0; i < Allow.Length; i++)
        {
            var rule = new CompiledRule(config.Allow[i], isDeny: false, slot++, segment.Defaults, sources);
            Allow[i] = rule;
            if (rule.PrincipalKind is not { } kind)
            {
                continue;
            }

            var k = (int)kind;
            anySourceNamed[k] |= rule.FromAny;
            for (var s = 0; s < sources.Count; s++)
            {
                namedSources[k][s] |= rule.FromSources[s];
            }
        }

        Decisions = new RouteDecisions(segment.Name, config.Id, config.Service, slot, sources.Count);
    }

    /// <summary>The route as written.</summary>
    public PolicyRoute Config { get; }

    /// <summary>Route id.</summary>
    public string Id => Config.Id;

    /// <summary>Position in the segment file, the last tie-breaker between equally specific routes.</summary>
    public int Order { get; }

    /// <summary>The parsed path template.</summary>
    public CompiledPathTemplate Template { get; }

    /// <summary>The route's methods; null matches every method.</summary>
    public FrozenSet<string>? Methods { get; }

    /// <summary>Deny rules in file order.</summary>
    public CompiledRule[] Deny { get; }

    /// <summary>Allow rules in file order.</summary>
    public CompiledRule[] Allow { get; }

    /// <summary>The decisions this route answers with.</summary>
    public RouteDecisions Decisions { get; }

    /// <summary>
    /// True when some allow rule for principals of <paramref name="kind"/> names the source at
    /// <paramref name="sourceIndex"/> (or <c>*</c>) in its <c>from</c>. A workload grant from finance does not make
    /// a finance user's refusal a mere <c>no-matching-rule</c>: for users, finance is still not allowed.
    /// </summary>
    public bool NamesSource(int sourceIndex, PrincipalKind kind)
    {
        var k = (int)kind;
        var named = namedSources[k];
        return anySourceNamed[k] || ((uint)sourceIndex < (uint)named.Length && named[sourceIndex]);
    }

    /// <summary>True when the route takes <paramref name="method"/> on the canonical <paramref name="path"/>.</summary>
    public bool Matches(string method, ReadOnlySpan<char> path) =>
        (Methods is null || Methods.Contains(method)) && Template.Matches(path);
}
