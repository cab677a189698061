namespace ZtGateway.Policy.Engine;

/// <summary>
/// The decisions one route can answer with, built once and shared: a decision is fixed by its reason, source
/// segment and rule, so the per-request path hands out the same immutable object instead of allocating one.
/// Outcomes before the source segment is known are built eagerly; the others on first use, per source segment.
/// </summary>
internal sealed class RouteDecisions
{
    private static readonly int ReasonCount = Enum.GetValues<ReasonCode>().Length;

    private readonly string destination;
    private readonly string routeId;
    private readonly string service;
    private readonly int slotsPerSource;
    private readonly int routeRow;
    private readonly Decision[] early;
    private readonly Decision?[]?[] bySource;

    /// <summary>Prepares the decisions of route <paramref name="routeId"/> with <paramref name="ruleCount"/> rules.</summary>
    public RouteDecisions(string destination, string routeId, string service, int ruleCount, int sourceCount)
    {
        this.destination = destination;
        this.routeId = routeId;
        this.service = service;

        // One slot per reason for each rule, and one row more for the outcomes that name no rule.
        routeRow = ruleCount;
        slotsPerSource = (ruleCount + 1) * ReasonCount;
        bySource = new Decision?[sourceCount][];
        early = new Decision[ReasonCount];
        for (var i = 0; i < ReasonCount; i++)
        {
            early[i] = Create((ReasonCode)i, string.Empty, null);
        }
    }

    /// <summary>A decision made before the caller was placed: no source segment, no rule.</summary>
    public Decision BeforeSource(ReasonCode reason) => early[(int)reason];

    /// <summary>
    /// The decision for <paramref name="reason"/> from the source at <paramref name="sourceIndex"/> (named
    /// <paramref name="sourceName"/>), carrying <paramref name="rule"/> when one decided.
    /// </summary>
    public Decision For(ReasonCode reason, int sourceIndex, string sourceName, CompiledRule? rule)
    {
        if ((uint)sourceIndex >= (uint)bySource.Length)
        {
            // A device segment outside the policy: rare, and its name is not ours to cache.
            return Create(reason, sourceName, rule);
        }

        var slots = Volatile.Read(ref bySource[sourceIndex]);
        if (slots is null)
        {
            var created = new Decision?[slotsPerSource];
            slots = Interlocked.CompareExchange(ref bySource[sourceIndex], created, null) ?? created;
        }

        // Two threads may both build the same decision; they are equal and either may stay.
        var row = rule?.Slot ?? routeRow;
        ref var slot = ref slots[row * ReasonCount + (int)reason];
        var decision = Volatile.Read(ref slot);
        if (decision is null)
        {
            decision = Create(reason, sourceName, rule);
            Volatile.Write(ref slot, decision);
        }

        return decision;
    }

    private Decision Create(ReasonCode reason, string sourceName, CompiledRule? rule)
    {
        var stepUp = rule is not null && reason.IsStepUp();
        return new Decision
        {
            Allowed = reason == ReasonCode.Allowed,
            Reason = reason,
            DestinationSegment = destination,
            SourceSegment = sourceName,
            RouteId = routeId,
            Service = service,
            RuleName = rule?.Name,
            AcrValues = stepUp ? rule!.AcrValues : [],
            MaxAuthAge = stepUp ? rule!.MaxAuthAge : null,
        };
    }
}
