namespace ZtGateway.Policy.Engine;

/// <summary>The outcome of one decision. Immutable.</summary>
public sealed record Decision
{
    /// <summary>True when the request may be forwarded.</summary>
    public required bool Allowed { get; init; }

    /// <summary>Why; <see cref="ReasonCode.Allowed"/> for allows.</summary>
    public required ReasonCode Reason { get; init; }

    /// <summary>The segment whose listener took the request.</summary>
    public required string DestinationSegment { get; init; }

    /// <summary>Where the caller was placed (a segment name or <c>unknown</c>); empty before the token step.</summary>
    public string SourceSegment { get; init; } = string.Empty;

    /// <summary>The matched route id, null for <c>route-not-found</c>.</summary>
    public string? RouteId { get; init; }

    /// <summary>The service of the matched route.</summary>
    public string? Service { get; init; }

    /// <summary>The rule that allowed, denied, or whose requirement failed; null when no rule applied.</summary>
    public string? RuleName { get; init; }

    /// <summary>For step-up reasons: the acr values that would satisfy the rule (may be empty).</summary>
    public IReadOnlyList<string> AcrValues { get; init; } = [];

    /// <summary>For step-up reasons: the rule's <c>maxAuthAge</c>, when it has one.</summary>
    public TimeSpan? MaxAuthAge { get; init; }
}

/// <summary>Why one rule did or did not apply, for <c>explain</c>.</summary>
public sealed record RuleTrace
{
    /// <summary>The rule's name.</summary>
    public required string Rule { get; init; }

    /// <summary>True for deny rules.</summary>
    public required bool IsDeny { get; init; }

    /// <summary>Whether every applicability condition held (from, principal, methods, networks, until).</summary>
    public required bool Applies { get; init; }

    /// <summary>For an applicable allow rule: the first failed requirement, or <see cref="ReasonCode.Allowed"/>.</summary>
    public ReasonCode? Outcome { get; init; }

    /// <summary>One human sentence: what matched or which condition failed.</summary>
    public required string Detail { get; init; }
}

/// <summary>A decision with the reasoning behind it, for <c>explain</c>.</summary>
public sealed record DecisionExplanation(Decision Decision, IReadOnlyList<RuleTrace> Rules);
