namespace ZtGateway.Sources.Detection;

/// <summary>Where the detector's results go: the audit sinks, the quarantine store, the state file.</summary>
internal interface IDetectionOutlet
{
    /// <summary>Writes the finding to the audit sinks. Called on the request's thread; must not wait on the disk beyond an audit write.</summary>
    void Report(DetectionFinding finding);

    /// <summary>Quarantines the finding's principal (and device, when known) until <see cref="DetectionFinding.ContainedUntil"/>. Called off the request path.</summary>
    void Contain(DetectionFinding finding);

    /// <summary>Remembers a segment pair across restarts. Called off the request path.</summary>
    void Remember(string sourceSegment, string destinationSegment, DateTimeOffset at);
}
