using System.Text.Json;
using ZtGateway.Sources.Continuous;

namespace ZtGateway.Tests.Continuous;

/// <summary>
/// The audit line (OCSF Entity Management) of every kind of change committed to continuous evaluation, byte for byte.
/// Only the random part of the change id is left out: it is a version-7 GUID of the change's time, shown as <c>&lt;id&gt;</c>.
/// </summary>
public sealed class StateChangeLineTests : IDisposable
{
    private static readonly DateTimeOffset Start = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);
    private static readonly DateTimeOffset Earlier = Start.AddSeconds(-30);

    private readonly TemporaryContinuous _store = new(Start);

    public void Dispose() => _store.Dispose();

    [Theory]
    [InlineData(JournalRecordTypes.Revoke, "session-revoked", "revocation")]
    [InlineData(JournalRecordTypes.StepUp, "assurance-level-change", "step-up")]
    public void RevocationOrStepUpBySignal(string type, string reason, string entityType)
    {
        Commit(new JournalRecord
        {
            Type = type, Time = Start, Issuer = "https://idp.test", Subject = "alice", At = Earlier, Reason = reason,
            Actor = "https://edr.test", TokenId = "set-1", TokenIssuedAt = Earlier,
        });

        AssertLine("""
            {"time":1800000000000,"class_uid":3004,"class_name":"Entity Management","category_uid":3,"category_name":"Identity \u0026 Access Management","activity_id":3,"activity_name":"Update","type_uid":300403,"severity_id":3,"severity":"Medium","status_id":1,"status":"Success","message":"<type> https://idp.test alice (<reason>)","metadata":{"uid":"<id>","version":"1.8.0","profiles":["host"],"product":{"name":"ZtGateway","vendor_name":"ZtGateway"}},"entity":{"uid":"https://idp.test alice","type":"<entity-type>","user":{"uid":"alice"}},"actor":{"user":{"uid":"https://edr.test"}},"observables":[{"name":"entity.user.uid","type_id":31,"value":"alice"},{"name":"actor.user.uid","type_id":31,"value":"https://edr.test"}],"unmapped":{"ztgw":{"change":"<type>","iss":"https://idp.test","sub":"alice","reason":"<reason>","jti":"set-1","at":1799999970000}}}
            """.Replace("<type>", type, StringComparison.Ordinal).Replace("<reason>", reason, StringComparison.Ordinal)
            .Replace("<entity-type>", entityType, StringComparison.Ordinal));
    }

    [Fact]
    public void RevocationWithoutActorOrReason()
    {
        Commit(new JournalRecord { Type = JournalRecordTypes.Revoke, Time = Start, Issuer = "https://idp.test", Subject = "bob", At = Earlier });

        AssertLine("""
            {"time":1800000000000,"class_uid":3004,"class_name":"Entity Management","category_uid":3,"category_name":"Identity \u0026 Access Management","activity_id":3,"activity_name":"Update","type_uid":300403,"severity_id":3,"severity":"Medium","status_id":1,"status":"Success","message":"revoke https://idp.test bob","metadata":{"uid":"<id>","version":"1.8.0","profiles":["host"],"product":{"name":"ZtGateway","vendor_name":"ZtGateway"}},"entity":{"uid":"https://idp.test bob","type":"revocation","user":{"uid":"bob"}},"observables":[{"name":"entity.user.uid","type_id":31,"value":"bob"}],"unmapped":{"ztgw":{"change":"revoke","iss":"https://idp.test","sub":"bob","at":1799999970000}}}
            """);
    }

    [Fact]
    public void DeviceHoldAndReleaseBySignal()
    {
        Commit(new JournalRecord
        {
            Type = JournalRecordTypes.Hold, Time = Start, At = Earlier, Target = QuarantineTargets.Device, Id = "laptop-9", Origin = QuarantineOrigins.Signal,
            Reason = "device-compliance-change: not-compliant", Actor = "https://edr.test", TokenId = "set-3", TokenIssuedAt = Earlier,
        });
        Commit(new JournalRecord
        {
            Type = JournalRecordTypes.Release, Time = Start, At = Start, Target = QuarantineTargets.Device, Id = "laptop-9", Origin = QuarantineOrigins.Signal,
            Reason = "device-compliance-change: compliant", Actor = "https://edr.test", TokenId = "set-4", TokenIssuedAt = Start,
        });

        AssertLines(
            """
            {"time":1800000000000,"class_uid":3004,"class_name":"Entity Management","category_uid":3,"category_name":"Identity \u0026 Access Management","activity_id":1,"activity_name":"Create","type_uid":300401,"severity_id":3,"severity":"Medium","status_id":1,"status":"Success","message":"hold laptop-9 (device-compliance-change: not-compliant)","metadata":{"uid":"<id>","version":"1.8.0","profiles":["host"],"product":{"name":"ZtGateway","vendor_name":"ZtGateway"}},"entity":{"uid":"laptop-9","type":"quarantine:device","device":{"uid":"laptop-9","type_id":0,"type":"Unknown"}},"actor":{"user":{"uid":"https://edr.test"}},"observables":[{"name":"entity.device.uid","type_id":47,"value":"laptop-9"},{"name":"actor.user.uid","type_id":31,"value":"https://edr.test"}],"unmapped":{"ztgw":{"change":"hold","target":"device","id":"laptop-9","origin":"signal","reason":"device-compliance-change: not-compliant","jti":"set-3","at":1799999970000}}}
            """,
            """
            {"time":1800000000000,"class_uid":3004,"class_name":"Entity Management","category_uid":3,"category_name":"Identity \u0026 Access Management","activity_id":4,"activity_name":"Delete","type_uid":300404,"severity_id":1,"severity":"Informational","status_id":1,"status":"Success","message":"release laptop-9 (device-compliance-change: compliant)","metadata":{"uid":"<id>","version":"1.8.0","profiles":["host"],"product":{"name":"ZtGateway","vendor_name":"ZtGateway"}},"entity":{"uid":"laptop-9","type":"quarantine:device","device":{"uid":"laptop-9","type_id":0,"type":"Unknown"}},"actor":{"user":{"uid":"https://edr.test"}},"observables":[{"name":"entity.device.uid","type_id":47,"value":"laptop-9"},{"name":"actor.user.uid","type_id":31,"value":"https://edr.test"}],"unmapped":{"ztgw":{"change":"release","target":"device","id":"laptop-9","origin":"signal","reason":"device-compliance-change: compliant","jti":"set-4","at":1800000000000}}}
            """);
    }

    [Fact]
    public void PrincipalHoldAndReleaseByAnOperator()
    {
        Commit(new JournalRecord
        {
            Type = JournalRecordTypes.Hold, Time = Start, At = Start, Target = QuarantineTargets.Principal, Id = "mallory", Origin = QuarantineOrigins.Admin,
            Until = Start.AddHours(2), Reason = "\"stolen\" laptop", Actor = "root",
        });
        Commit(new JournalRecord
        {
            Type = JournalRecordTypes.Release, Time = Start, At = Start, Target = QuarantineTargets.Principal, Id = "mallory", Reason = "released by an operator",
            Actor = "root",
        });

        AssertLines(
            """
            {"time":1800000000000,"class_uid":3004,"class_name":"Entity Management","category_uid":3,"category_name":"Identity \u0026 Access Management","activity_id":1,"activity_name":"Create","type_uid":300401,"severity_id":3,"severity":"Medium","status_id":1,"status":"Success","message":"hold mallory (\u0022stolen\u0022 laptop)","metadata":{"uid":"<id>","version":"1.8.0","profiles":["host"],"product":{"name":"ZtGateway","vendor_name":"ZtGateway"}},"entity":{"uid":"mallory","type":"quarantine:principal","user":{"uid":"mallory"}},"actor":{"user":{"uid":"root"}},"observables":[{"name":"entity.user.uid","type_id":31,"value":"mallory"},{"name":"actor.user.uid","type_id":31,"value":"root"}],"unmapped":{"ztgw":{"change":"hold","target":"principal","id":"mallory","origin":"admin","reason":"\u0022stolen\u0022 laptop","at":1800000000000,"until":1800007200000}}}
            """,
            """
            {"time":1800000000000,"class_uid":3004,"class_name":"Entity Management","category_uid":3,"category_name":"Identity \u0026 Access Management","activity_id":4,"activity_name":"Delete","type_uid":300404,"severity_id":1,"severity":"Informational","status_id":1,"status":"Success","message":"release mallory (released by an operator)","metadata":{"uid":"<id>","version":"1.8.0","profiles":["host"],"product":{"name":"ZtGateway","vendor_name":"ZtGateway"}},"entity":{"uid":"mallory","type":"quarantine:principal","user":{"uid":"mallory"}},"actor":{"user":{"uid":"root"}},"observables":[{"name":"entity.user.uid","type_id":31,"value":"mallory"},{"name":"actor.user.uid","type_id":31,"value":"root"}],"unmapped":{"ztgw":{"change":"release","target":"principal","id":"mallory","reason":"released by an operator","at":1800000000000}}}
            """);
    }

    [Fact]
    public void PairsAndSeenSignals_AreNotAudited()
    {
        Commit(new JournalRecord { Type = JournalRecordTypes.Pair, Time = Start, SourceSegment = "finance", DestinationSegment = "hr" });
        Commit(new JournalRecord { Type = JournalRecordTypes.Seen, Time = Start, Actor = "https://edr.test", TokenId = "set-5", TokenIssuedAt = Start });

        Assert.Empty(_store.Context.Lines);
    }

    private void Commit(JournalRecord record) => Assert.True(_store.Continuous.Commit(record));

    private void AssertLine(string expected) => AssertLines(expected);

    private void AssertLines(params string[] expected)
    {
        Assert.Equal(expected, _store.Context.Lines.Select(WithoutRandomId));
        Assert.All(_store.Context.Lines, line => Assert.Empty(ZtGateway.Tests.Audit.Ocsf.OcsfSchema.Vendored.Validate(System.Text.Encoding.UTF8.GetBytes(line))));
    }

    // The change id is a version-7 GUID of the change's time: its first 48 bits are that time, the rest is random.
    internal static string WithoutRandomId(string line)
    {
        using var json = JsonDocument.Parse(line);
        var root = json.RootElement;
        var id = root.GetProperty("metadata").GetProperty("uid").GetString()!;
        var time = DateTimeOffset.FromUnixTimeMilliseconds(root.GetProperty("time").GetInt64());
        Assert.Equal(7, Guid.Parse(id).Version);
        Assert.Equal(Guid.CreateVersion7(time).ToString()[..13], id[..13]);
        return line.Replace("\"uid\":\"" + id + "\"", "\"uid\":\"<id>\"", StringComparison.Ordinal);
    }
}
