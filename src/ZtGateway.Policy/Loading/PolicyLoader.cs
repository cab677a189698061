namespace ZtGateway.Policy.Loading;

/// <summary>Reads gateway.yaml and the segment files it points at, and validates them.</summary>
public static class PolicyLoader
{
    /// <summary>Loads and validates the policy rooted at <paramref name="gatewayFile"/>; never throws for bad input.</summary>
    public static PolicyLoadResult Load(string gatewayFile, TimeProvider timeProvider) => throw new NotSupportedException("scaffold");
}
