using ZtGateway.Policy.Configuration;

namespace ZtGateway.Policy.Engine;

/// <summary>
/// The Policy Decision Point: turns a <see cref="RequestContext"/> into a <see cref="Decision"/> against one
/// immutable <see cref="PolicySet"/>. Pure: no I/O, time from the injected <see cref="TimeProvider"/>.
/// </summary>
/// <remarks>
/// The policy is compiled once, at construction. <see cref="Decide"/> and <see cref="Explain"/> run the same
/// evaluation; <see cref="Explain"/> only also records why each rule did or did not apply. The order of checks
/// is docs/design.md section 4: path, route, token, quarantine, device assertion, source segment, deny rules, allow rules,
/// requirements; the first failure wins. Thread-safe.
/// </remarks>
public sealed class PolicyEngine
{
    private readonly CompiledPolicy compiled;
    private readonly TimeProvider timeProvider;

    /// <summary>Compiles <paramref name="policy"/> for decisions.</summary>
    /// <exception cref="ArgumentException">A route's path template cannot be parsed.</exception>
    public PolicyEngine(PolicySet policy, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(timeProvider);
        Policy = policy;
        this.timeProvider = timeProvider;
        compiled = new CompiledPolicy(policy);
    }

    /// <summary>The policy this engine decides by.</summary>
    public PolicySet Policy { get; }

    /// <summary>The compiled route tables and rules, for the analyses of this assembly (graph, diff).</summary>
    internal CompiledPolicy Compiled => compiled;

    /// <summary>The clock decisions read, so that analyses build requests as of the same instant.</summary>
    internal TimeProvider Time => timeProvider;

    /// <summary>Decides one request.</summary>
    public Decision Decide(RequestContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return Evaluate(context, trace: null);
    }

    /// <summary>
    /// Decides one request and says, rule by rule, why. Rules are traced (deny rules first) once the request gets
    /// as far as the rules of its route; a request refused earlier has no rule traces.
    /// </summary>
    public DecisionExplanation Explain(RequestContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var trace = new List<RuleTrace>();
        var decision = Evaluate(context, trace);
        return new DecisionExplanation(decision, trace);
    }

    // The one implementation of the decision. With a trace, every rule is looked at and recorded, but the
    // decision is the one the first failure (or the first allowing rule) fixed, exactly as without.
    private Decision Evaluate(RequestContext context, List<RuleTrace>? trace)
    {
        // Before any route: a path an upstream could read as another path is never matched.
        if (!RequestPath.IsUnambiguous(context.Path, context.RawTarget))
        {
            return compiled.Segments.TryGetValue(context.Segment, out var known)
                ? known.PathInvalid
                : new Decision { Allowed = false, Reason = ReasonCode.PathInvalid, DestinationSegment = context.Segment };
        }

        if (!compiled.Segments.TryGetValue(context.Segment, out var table))
        {
            return new Decision { Allowed = false, Reason = ReasonCode.RouteNotFound, DestinationSegment = context.Segment };
        }

        var route = table.Match(context.Method, context.Path);
        if (route is null)
        {
            return table.RouteNotFound;
        }

        var decisions = route.Decisions;
        var tokenFailure = context.Token switch
        {
            TokenStatus.Valid => context.Principal is null ? ReasonCode.TokenInvalid : ReasonCode.Allowed,
            TokenStatus.Missing => ReasonCode.TokenMissing,
            TokenStatus.Expired => ReasonCode.TokenExpired,
            TokenStatus.Revoked => ReasonCode.TokenRevoked,
            _ => ReasonCode.TokenInvalid,
        };
        if (tokenFailure != ReasonCode.Allowed)
        {
            return decisions.BeforeSource(tokenFailure);
        }

        var principal = context.Principal!;
        if (context.PrincipalQuarantined)
        {
            return decisions.BeforeSource(ReasonCode.PrincipalQuarantined);
        }

        if (context.DeviceQuarantined)
        {
            return decisions.BeforeSource(ReasonCode.DeviceQuarantined);
        }

        // An assertion that was sent must verify, whatever the rules ask of devices.
        DevicePosture? device = null;
        if (context.DeviceStatus == DeviceStatus.Verified)
        {
            device = context.Device;
            if (device is null)
            {
                return decisions.BeforeSource(ReasonCode.DeviceInvalid);
            }
        }
        else if (context.DeviceStatus != DeviceStatus.Absent)
        {
            return decisions.BeforeSource(ReasonCode.DeviceInvalid);
        }

        var address = context.ClientAddress;
        var source = compiled.Place(principal, device, address);
        if (source.Mismatch)
        {
            return decisions.For(ReasonCode.SourceMismatch, source.Index, source.Name, rule: null);
        }

        var input = new RuleInput(
            principal, context.Method, address, device, source.Index, context.StepUpRequired, context.Binding, timeProvider.GetUtcNow());

        Decision? decision = null;
        foreach (var rule in route.Deny)
        {
            var check = RuleEvaluator.Applies(rule, in input);
            if (check == RuleCheck.Passed)
            {
                decision ??= decisions.For(ReasonCode.DeniedByRule, source.Index, source.Name, rule);
                if (trace is null)
                {
                    return decision;
                }
            }

            trace?.Add(Trace(rule, check, outcome: null, in input));
        }

        CompiledRule? failed = null;
        var failedReason = ReasonCode.Allowed;
        CompiledRule? expired = null;
        foreach (var rule in route.Allow)
        {
            var check = RuleEvaluator.Applies(rule, in input);
            ReasonCode? outcome = null;
            if (check == RuleCheck.Passed)
            {
                check = RuleEvaluator.Requirements(rule, in input, compiled.MfaMethods, compiled.ClockSkew);
                var reason = RuleEvaluator.ToReason(check);
                outcome = reason;
                if (reason == ReasonCode.Allowed)
                {
                    decision ??= decisions.For(ReasonCode.Allowed, source.Index, source.Name, rule);
                    if (trace is null)
                    {
                        return decision;
                    }
                }
                else if (failed is null || RuleEvaluator.Priority(reason) < RuleEvaluator.Priority(failedReason))
                {
                    failed = rule;
                    failedReason = reason;
                }
            }
            else if (check == RuleCheck.GrantExpired)
            {
                expired ??= rule;
            }

            trace?.Add(Trace(rule, check, outcome, in input));
        }

        if (decision is not null)
        {
            return decision;
        }

        if (failed is not null)
        {
            return decisions.For(failedReason, source.Index, source.Name, failed);
        }

        if (expired is not null)
        {
            return decisions.For(ReasonCode.GrantExpired, source.Index, source.Name, expired);
        }

        var reasonWithoutRule = route.NamesSource(source.Index, principal.Kind) ? ReasonCode.NoMatchingRule : ReasonCode.SegmentNotAllowed;
        return decisions.For(reasonWithoutRule, source.Index, source.Name, rule: null);
    }

    private RuleTrace Trace(CompiledRule rule, RuleCheck check, ReasonCode? outcome, in RuleInput input) => new()
    {
        Rule = rule.Name,
        IsDeny = rule.IsDeny,
        Applies = outcome is not null || (rule.IsDeny && check == RuleCheck.Passed),
        Outcome = outcome,
        Detail = RuleEvaluator.Describe(rule, check, in input, compiled.Sources, compiled.MfaMethods, compiled.ClockSkew),
    };
}
