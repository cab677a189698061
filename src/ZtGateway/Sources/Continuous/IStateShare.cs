namespace ZtGateway.Sources.Continuous;

/// <summary>
/// Where continuous evaluation sends its changes so that every gateway of a deployment has them (the shared state of
/// <c>gateway.sharedState</c>), and where a signal's id is claimed for the whole deployment.
/// </summary>
internal interface IStateShare
{
    /// <summary>Sends a committed change to the other gateways; never blocks and never throws: the share keeps it until it is delivered.</summary>
    void Publish(JournalRecord record);

    /// <summary>
    /// Claims a signal id for the whole deployment for <paramref name="retention"/>: true when this gateway is the first,
    /// false when another one accepted it, null when the shared store cannot be asked (the claim then stays local).
    /// </summary>
    ValueTask<bool?> TryClaimAsync(string issuer, string id, TimeSpan retention, CancellationToken cancellationToken);
}
