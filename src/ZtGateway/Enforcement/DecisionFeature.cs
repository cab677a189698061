using ZtGateway.Policy.Engine;

namespace ZtGateway.Enforcement;

/// <summary>The decision taken for the current request, for the stages after enforcement (upstream errors, audit).</summary>
internal sealed class DecisionFeature
{
    public required string DecisionId { get; init; }

    public required string TraceId { get; init; }

    public required Decision Decision { get; init; }

    /// <summary>True when the decided service sets <c>passAuthorization</c>: only then does the caller's bearer token go upstream.</summary>
    public bool ForwardAuthorization { get; init; }
}
