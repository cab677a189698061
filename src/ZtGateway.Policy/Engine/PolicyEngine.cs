using ZtGateway.Policy.Configuration;

namespace ZtGateway.Policy.Engine;

/// <summary>
/// The Policy Decision Point: turns a <see cref="RequestContext"/> into a <see cref="Decision"/> against one
/// immutable <see cref="PolicySet"/>. Pure: no I/O, time from the injected <see cref="TimeProvider"/>.
/// </summary>
public sealed class PolicyEngine
{
    /// <summary>Compiles <paramref name="policy"/> for decisions.</summary>
    public PolicyEngine(PolicySet policy, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(timeProvider);
        Policy = policy;
    }

    /// <summary>The policy this engine decides by.</summary>
    public PolicySet Policy { get; }

    /// <summary>Decides one request.</summary>
    public Decision Decide(RequestContext context) => throw new NotSupportedException("scaffold");

    /// <summary>Decides one request and says, rule by rule, why.</summary>
    public DecisionExplanation Explain(RequestContext context) => throw new NotSupportedException("scaffold");
}
