using System.Collections.Frozen;
using System.Net;
using ZtGateway.Policy.Configuration;

namespace ZtGateway.Policy.Engine;

/// <summary>
/// An allow or deny rule ready for decisions: its sets built once, its requirements resolved from the segment's
/// <c>defaults</c>. Immutable.
/// </summary>
internal sealed class CompiledRule
{
    /// <summary>Compiles <paramref name="config"/>; <paramref name="sources"/> gives the index of each source segment name.</summary>
    public CompiledRule(RuleConfig config, bool isDeny, int slot, RuleDefaults defaults, SourceSegments sources)
    {
        Config = config;
        Name = config.Name;
        IsDeny = isDeny;
        Slot = slot;

        // A deny rule without from covers every source; an allow rule without from names none (fail closed).
        HasFrom = config.From is not null || isDeny;
        FromAny = config.From is null ? isDeny : config.From.Contains(SourceSegments.Any, StringComparer.Ordinal);
        FromSources = new bool[sources.Count];
        foreach (var name in config.From ?? [])
        {
            if (sources.TryGetIndex(name, out var index))
            {
                FromSources[index] = true;
            }
        }

        if (config.Users is { } users)
        {
            PrincipalKind = Engine.PrincipalKind.User;
            Groups = users.Groups.ToFrozenSet(StringComparer.Ordinal);
            Roles = users.Roles.ToFrozenSet(StringComparer.Ordinal);
            Subjects = users.Subjects.ToFrozenSet(StringComparer.Ordinal);
        }
        else if (config.Workloads is { } workloads)
        {
            PrincipalKind = Engine.PrincipalKind.Workload;
            Workloads = workloads.ToFrozenSet(StringComparer.Ordinal);
        }

        Methods = config.Methods?.ToFrozenSet(StringComparer.OrdinalIgnoreCase);
        Networks = config.Networks is null ? null : NetworkMatching.WithMappedForms(config.Networks);
        Until = config.Until;
        Mfa = config.Mfa ?? defaults.Mfa;
        MaxAuthAge = config.MaxAuthAge ?? defaults.MaxAuthAge;
        Acr = config.Acr is { Count: > 0 } acr ? acr.ToFrozenSet(StringComparer.Ordinal) : null;
        AcrValues = config.Acr is { Count: > 0 } ? [.. config.Acr] : [];
        Device = config.Device ?? defaults.Device;
        BoundToken = config.BoundToken && !isDeny;
    }

    /// <summary>The rule as written.</summary>
    public RuleConfig Config { get; }

    /// <summary>The rule's name.</summary>
    public string Name { get; }

    /// <summary>True for deny rules.</summary>
    public bool IsDeny { get; }

    /// <summary>Position of the rule in its route (deny rules first), used to index cached decisions.</summary>
    public int Slot { get; }

    /// <summary>False for an allow rule written without <c>from</c>: it names no source.</summary>
    public bool HasFrom { get; }

    /// <summary>The rule covers every source segment (<c>*</c>, or a deny rule without <c>from</c>).</summary>
    public bool FromAny { get; }

    /// <summary>Source segments named by <c>from</c>, by source index.</summary>
    public bool[] FromSources { get; }

    /// <summary>Who the rule names: users, workloads, or (null) nobody.</summary>
    public PrincipalKind? PrincipalKind { get; }

    /// <summary>Groups named by <c>users</c>.</summary>
    public FrozenSet<string> Groups { get; } = FrozenSet<string>.Empty;

    /// <summary>Roles named by <c>users</c>.</summary>
    public FrozenSet<string> Roles { get; } = FrozenSet<string>.Empty;

    /// <summary>Subjects named by <c>users</c>.</summary>
    public FrozenSet<string> Subjects { get; } = FrozenSet<string>.Empty;

    /// <summary>Workload ids named by <c>workloads</c>.</summary>
    public FrozenSet<string> Workloads { get; } = FrozenSet<string>.Empty;

    /// <summary>Methods the rule is limited to; null for those of the route.</summary>
    public FrozenSet<string>? Methods { get; }

    /// <summary>Client networks the rule is limited to, with IPv4-mapped forms; null for any.</summary>
    public IPNetwork[]? Networks { get; }

    /// <summary>The grant ends at this instant.</summary>
    public DateTimeOffset? Until { get; }

    /// <summary>Effective MFA requirement (rule, else segment defaults).</summary>
    public MfaRequirement Mfa { get; }

    /// <summary>Effective longest time since <c>auth_time</c>.</summary>
    public TimeSpan MaxAuthAge { get; }

    /// <summary>Acceptable <c>acr</c> values; null accepts any.</summary>
    public FrozenSet<string>? Acr { get; }

    /// <summary>The acceptable <c>acr</c> values as written, for step-up challenges; empty when any will do.</summary>
    public IReadOnlyList<string> AcrValues { get; }

    /// <summary>Effective device requirement.</summary>
    public DeviceRequirement Device { get; }

    /// <summary>The credential must be bound to the connection (<c>boundToken: true</c>); never set on a deny rule.</summary>
    public bool BoundToken { get; }

    /// <summary>True when <c>from</c> names the source at <paramref name="sourceIndex"/> (or <c>*</c>).</summary>
    public bool NamesSource(int sourceIndex) =>
        FromAny || ((uint)sourceIndex < (uint)FromSources.Length && FromSources[sourceIndex]);
}
