using ZtGateway.Policy.Engine;

namespace ZtGateway.Policy.Analysis.Rendering;

/// <summary>What <c>ztgw explain</c> found for one request, ready to be written.</summary>
public sealed record ExplainReport
{
    /// <summary>The engine's decision and its rule-by-rule trace.</summary>
    public required DecisionExplanation Explanation { get; init; }

    /// <summary>The request as it was decided, with what the verifiers made of any token and posture material.</summary>
    public required RequestContext Request { get; init; }

    /// <summary>The instant of the decision.</summary>
    public required DateTimeOffset At { get; init; }

    /// <summary>What the token verifier said; null when no token was given.</summary>
    public string? TokenDetail { get; init; }

    /// <summary>What the posture verifier said; null when no posture assertion was given.</summary>
    public string? DeviceDetail { get; init; }
}
