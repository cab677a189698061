using ZtGateway.Runtime;
using ZtGateway.Sources.Continuous;

namespace ZtGateway.Sources.Detection;

/// <summary>
/// The detector's outlet in a running gateway: findings go to the live audit sinks, containments become quarantine
/// holds (origin <c>detection</c>) and learned segment pairs <c>pair</c> records, both committed to continuous
/// evaluation, so they are in force at once and survive a restart.
/// </summary>
internal sealed class ContinuousOutlet : IDetectionOutlet
{
    private readonly ContinuousEvaluation _continuous;
    private readonly ILivePolicy _context;
    private readonly TimeProvider _time;

    /// <param name="continuous">Where holds and pairs are committed.</param>
    /// <param name="context">The live policy: its audit sinks and version.</param>
    /// <param name="timeProvider">The clock of the holds' records.</param>
    public ContinuousOutlet(ContinuousEvaluation continuous, ILivePolicy context, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(continuous);
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _continuous = continuous;
        _context = context;
        _time = timeProvider;
    }

    public void Report(DetectionFinding finding) => _context.Audit.RecordFinding(finding.ToAuditEvent(_context.PolicyVersion));

    public void Contain(DetectionFinding finding)
    {
        Hold(QuarantineTargets.Principal, finding.PrincipalId);
        if (finding.DeviceId is { } device)
        {
            Hold(QuarantineTargets.Device, device);
        }

        void Hold(string target, string id) => _continuous.Commit(new JournalRecord
        {
            Type = JournalRecordTypes.Hold,
            Time = _time.GetUtcNow(),
            Target = target,
            Id = id,
            Origin = QuarantineOrigins.Detection,
            At = finding.Time,
            Until = finding.ContainedUntil,
            Reason = finding.Kind.ToCode() + " finding " + finding.Id,
            Actor = "ztgw-detection",
        });
    }

    public void Remember(string sourceSegment, string destinationSegment, DateTimeOffset at) => _continuous.Commit(new JournalRecord
    {
        Type = JournalRecordTypes.Pair,
        Time = at,
        SourceSegment = sourceSegment,
        DestinationSegment = destinationSegment,
    });
}
