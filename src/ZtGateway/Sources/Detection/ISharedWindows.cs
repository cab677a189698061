namespace ZtGateway.Sources.Detection;

/// <summary>
/// The detector's windows counted over every gateway of a deployment (<c>gateway.sharedState</c>): each gateway adds
/// what it observed, in batches off the request path, and reads back what the whole deployment counted; a finding is
/// raised by the one gateway that wins its election.
/// </summary>
internal interface ISharedWindows
{
    /// <summary>True while the shared store answers; while false the detector decides on what this gateway saw.</summary>
    bool Available { get; }

    /// <summary>
    /// Adds every update's members to its window (keeping the newest <see cref="SharedWindowUpdate.Limit"/> + 1 seen within
    /// <see cref="SharedWindowUpdate.Window"/> of <paramref name="now"/>) and returns, in the same order, how many distinct members each
    /// window now holds over the deployment; null when the store could not be asked.
    /// </summary>
    Task<IReadOnlyList<long>?> AddAsync(IReadOnlyList<SharedWindowUpdate> updates, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>
    /// Claims the finding <paramref name="kind"/> about <paramref name="subject"/> for the deployment for <paramref name="hold"/>: true when
    /// this gateway raises it, false when another one did, null when the store could not be asked.
    /// </summary>
    Task<bool?> TryElectAsync(string subject, string kind, TimeSpan hold, CancellationToken cancellationToken);
}

/// <summary>Which of a subject's windows an update adds to.</summary>
internal enum SharedWindowSet
{
    /// <summary>Denied requests; each member is one denial.</summary>
    Denials,

    /// <summary>Destination segments.</summary>
    Segments,

    /// <summary>Routes, named segment and route id.</summary>
    Routes,
}

/// <summary>Members one gateway observed in one window of <see cref="Subject"/> (<c>p\n</c> and a principal id, or <c>d\n</c> and a device id).</summary>
internal sealed record SharedWindowUpdate(string Subject, SharedWindowSet Set, IReadOnlyList<KeyValuePair<string, DateTimeOffset>> Members, int Limit,
    TimeSpan Window);
