using System.Collections.Concurrent;

namespace ZtGateway.Sources.Continuous;

/// <summary>One posture assertion an EDR/MDM bridge pushed for a device, as it was received.</summary>
/// <param name="Assertion">The signed JWT, verified again each time it is used.</param>
/// <param name="IssuedAt">Its <c>iat</c>: a later push of the same device replaces an earlier one, never the reverse.</param>
/// <param name="Expires">Its <c>exp</c>: from then on the device has no pushed posture.</param>
internal sealed record PushedPosture(string Assertion, DateTimeOffset IssuedAt, DateTimeOffset Expires);

/// <summary>
/// The latest posture assertion pushed for each device (<c>POST /device/posture</c>), by device id, from <c>posture</c>
/// records of the state file and of the other gateways. The store keeps assertions as text and vouches for none: the
/// request path verifies the one it takes with the same verifier as an <c>X-Device-Posture</c> header, so a record that
/// did not come from a posture issuer never names a posture.
/// </summary>
internal sealed class PushedPostureStore
{
    private readonly ConcurrentDictionary<string, PushedPosture> _devices = new(StringComparer.Ordinal);

    /// <summary>How many devices have a pushed assertion (expired ones included until they are replaced or compacted away).</summary>
    public int Count => _devices.Count;

    /// <summary>The assertion in force for <paramref name="deviceId"/> at <paramref name="now"/>; null when none was pushed or it expired.</summary>
    public PushedPosture? Latest(string deviceId, DateTimeOffset now) =>
        _devices.TryGetValue(deviceId, out var pushed) && pushed.Expires > now ? pushed : null;

    /// <summary>Applies a <c>posture</c> record; false for any other record. An older assertion than the one held changes nothing.</summary>
    public bool Apply(JournalRecord record)
    {
        if (record.Type != JournalRecordTypes.Posture)
        {
            return false;
        }

        var pushed = new PushedPosture(record.Assertion!, record.At!.Value, record.Until!.Value);
        _devices.AddOrUpdate(record.Id!, pushed, (_, held) => pushed.IssuedAt >= held.IssuedAt ? pushed : held);
        return true;
    }

    /// <summary>The records that rebuild the store at <paramref name="now"/>: one per device whose assertion has not expired.</summary>
    public IReadOnlyList<JournalRecord> Live(DateTimeOffset now) =>
    [
        .. _devices.Where(p => p.Value.Expires > now).Select(p => Record(p.Key, p.Value, now)),
    ];

    /// <summary>The record of a push.</summary>
    public static JournalRecord Record(string deviceId, PushedPosture pushed, DateTimeOffset now) => new()
    {
        Type = JournalRecordTypes.Posture,
        Time = now,
        Target = QuarantineTargets.Device,
        Id = deviceId,
        At = pushed.IssuedAt,
        Until = pushed.Expires,
        Assertion = pushed.Assertion,
    };
}
