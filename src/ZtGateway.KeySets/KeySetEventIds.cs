namespace ZtGateway.KeySets;

/// <summary>Event ids of the log messages of <see cref="JsonWebKeySetCache"/>, kept in one range so operators can filter on them.</summary>
public static class KeySetEventIds
{
    /// <summary>A fetch brought the same key ids as the set held (Debug).</summary>
    public const int Fetched = 2201;

    /// <summary>A fetch brought a set with other key ids: the first set, a rotation or a withdrawal (Information).</summary>
    public const int Changed = 2202;

    /// <summary>A fetch failed or brought an unusable set; the set held before stays in use (Warning).</summary>
    public const int FetchFailed = 2203;

    /// <summary>A token named a key id the held set lacks, and the set is fetched again (Information).</summary>
    public const int RefreshingForUnknownKeyId = 2204;
}
