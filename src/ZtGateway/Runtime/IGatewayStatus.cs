namespace ZtGateway.Runtime;

/// <summary>What the management endpoints may ask the running gateway.</summary>
internal interface IGatewayStatus
{
    /// <summary>Names of the segments whose listeners are open.</summary>
    IReadOnlyCollection<string> OpenSegments { get; }

    /// <summary>Whether the shared state (<c>gateway.sharedState</c>) answers; null when the state is not shared.</summary>
    SharedStateStatus? SharedState { get; }
}

/// <summary>The shared state as readiness reports it.</summary>
/// <param name="Connected">True while Redis answers.</param>
/// <param name="Detail">The endpoints (never the password) and prefix, or what is wrong.</param>
internal sealed record SharedStateStatus(bool Connected, string Detail);
