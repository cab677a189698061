namespace ZtGateway.Runtime;

/// <summary>What the management endpoints may ask the running gateway.</summary>
internal interface IGatewayStatus
{
    /// <summary>Names of the segments whose listeners are open.</summary>
    IReadOnlyCollection<string> OpenSegments { get; }
}
