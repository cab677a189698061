namespace ZtGateway.Upstream;

/// <summary>Event ids of this library's log messages, kept in one place so they stay unique.</summary>
internal static class UpstreamEventIds
{
    public const int KeysFetched = 2101;
    public const int KeysFetchFailed = 2102;
    public const int RefreshingForUnknownKey = 2103;
    public const int AssertionRejected = 2110;
    public const int AssertionAmbiguous = 2111;
}
