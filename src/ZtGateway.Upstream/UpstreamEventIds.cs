namespace ZtGateway.Upstream;

/// <summary>Event ids of this library's log messages, kept in one place so they stay unique.</summary>
/// <remarks>Fetching the gateway's keys logs with the ids of ZtGateway.KeySets (<c>KeySetEventIds</c>, 2201-2204).</remarks>
internal static class UpstreamEventIds
{
    public const int AssertionRejected = 2110;
    public const int AssertionAmbiguous = 2111;
}
