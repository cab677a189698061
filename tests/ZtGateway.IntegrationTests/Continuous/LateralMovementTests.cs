using System.Net;
using System.Text.Json;
using ZtGateway.IntegrationTests.Infrastructure;

namespace ZtGateway.IntegrationTests.Continuous;

/// <summary>
/// A scripted lateral-movement run on three segments: mallory, a finance user, probes routes in finance, hr
/// and engineering while alice works normally in finance. The detector must see mallory and only mallory.
/// </summary>
public sealed class LateralMovementTests : IAsyncLifetime
{
    private const string PayrollEngine = "spiffe://corp.test/hr/payroll-engine";

    private readonly TestIdentity _identity = new();
    private readonly TestTransmitter _transmitter = new();
    private EchoUpstream _upstream = null!;
    private ContinuousGateway? _gateway;

    public async Task InitializeAsync() => _upstream = await EchoUpstream.StartAsync("any");

    public async Task DisposeAsync()
    {
        if (_gateway is not null)
        {
            await _gateway.DisposeAsync();
        }

        await _upstream.DisposeAsync();
        _identity.Dispose();
        _transmitter.Dispose();
    }

    private Dictionary<string, string> Segments() => ThreeSegments(_upstream.Url);

    /// <summary>finance (loopback callers), hr and engineering, every service on <paramref name="upstream"/>.</summary>
    internal static Dictionary<string, string> ThreeSegments(string upstream) => new()
    {
        ["finance"] = $$"""
            segment: finance
            listen: http://127.0.0.1:0
            members: { networks: [127.0.0.0/8] }
            defaults: { device: any }
            services:
              ledger: { destinations: [{{upstream}}] }
            routes:
              - id: ledger
                match: { path: "/ledger/{**rest}" }
                service: ledger
                allow: [ { name: staff, from: [finance], users: { groups: [finance-staff] } } ]
              - id: reports
                match: { path: "/reports/{**rest}" }
                service: ledger
                allow: [ { name: only-bob, from: [finance], users: { subjects: [bob] } } ]
              - id: archive
                match: { path: "/archive/{**rest}" }
                service: ledger
                allow: [ { name: staff, from: [finance], users: { groups: [finance-staff] } } ]
            """,
        ["hr"] = $$"""
            segment: hr
            listen: http://127.0.0.1:0
            members: { workloads: [{{PayrollEngine}}], networks: [10.20.0.0/16] }
            defaults: { device: any }
            services:
              payroll: { destinations: [{{upstream}}] }
            routes:
              - id: payroll
                match: { path: "/payroll/{**rest}" }
                service: payroll
                allow:
                  - { name: hr-staff, from: [hr], users: { groups: [hr-staff] } }
                  - { name: engine, from: [hr], workloads: [{{PayrollEngine}}] }
              - id: payroll-admin
                match: { path: "/payroll-admin/{**rest}" }
                service: payroll
                allow: [ { name: hr-admins, from: [hr], users: { roles: [PayrollAdmin] } } ]
            """,
        ["engineering"] = $$"""
            segment: engineering
            listen: http://127.0.0.1:0
            members: { networks: [10.30.0.0/16] }
            defaults: { device: any }
            services:
              builds: { destinations: [{{upstream}}] }
            routes:
              - id: builds
                match: { path: "/builds/{**rest}" }
                service: builds
                allow: [ { name: engineers, from: [engineering], users: { groups: [engineers] } } ]
              - id: sources
                match: { path: "/sources/{**rest}" }
                service: builds
                allow: [ { name: engineers, from: [engineering], users: { groups: [engineers] } } ]
            """,
    };

    private static string Detection(string response) => $"""
        detection:
          window: 10m
          maxDenials: 5
          maxSegments: 2
          maxRoutes: 4
          learningPeriod: 1h
          response: {response}
          containFor: 30m
        """;

    // Mallory's probe, in order: two normal reads, then routes that are not hers, across all three segments.
    private static readonly (string Segment, string Path)[] Probe =
    [
        ("finance", "/ledger/1"), ("finance", "/archive/1"), ("finance", "/reports/q1"),
        ("hr", "/payroll/alice"), ("hr", "/payroll-admin/raise"), ("engineering", "/builds/1"),
        ("engineering", "/sources/secrets"), ("hr", "/payroll/bob"), ("engineering", "/builds/2"),
    ];

    private async Task<Problem> Send(string segment, string path, string token)
    {
        using var client = _gateway!.Client(segment);
        return await Problem.SendAsync(client, HttpMethod.Get, path, token);
    }

    private async Task<List<Problem>> RunAsync(string response)
    {
        _gateway = await ContinuousGateway.StartAsync(_identity, _transmitter, Segments(), detection: Detection(response));
        var now = _gateway.Time.GetUtcNow();

        // During learning alice's ordinary day sets the baseline.
        var alice = _identity.User(now, "alice", ["finance-staff"]);
        Assert.Equal(HttpStatusCode.OK, (await Send("finance", "/ledger/1", alice)).Status);
        _gateway.Time.Advance(TimeSpan.FromHours(2));

        now = _gateway.Time.GetUtcNow();
        alice = _identity.User(now, "alice", ["finance-staff"]);
        var mallory = _identity.User(now, "mallory", ["finance-staff"]);
        var answers = new List<Problem>();
        foreach (var (segment, path) in Probe)
        {
            answers.Add(await Send(segment, path, mallory));
            Assert.Equal(HttpStatusCode.OK, (await Send("finance", "/ledger/2", alice)).Status);
        }

        return answers;
    }

    private List<JsonElement> Findings() =>
    [
        .. File.ReadAllLines(_gateway!.AuditFile).Select(l => JsonDocument.Parse(l).RootElement)
            .Where(l => l.GetProperty("class_uid").GetInt32() == 2004),
    ];

    private static string Kind(JsonElement finding) => finding.GetProperty("unmapped").GetProperty("ztgw").GetProperty("detection").GetString()!;

    private static string Actor(JsonElement finding) => finding.GetProperty("actor").GetProperty("user").GetProperty("uid").GetString()!;

    [Fact]
    public async Task ScriptedProbe_RaisesTheExpectedFindings_OnlyForTheProber()
    {
        var answers = await RunAsync("alert");

        Assert.All(answers.Skip(2), a => Assert.Equal(HttpStatusCode.Forbidden, a.Status));
        var findings = Findings();
        Assert.All(findings, f => Assert.Equal("mallory", Actor(f)));
        Assert.Equal(
            ["denial-burst", "new-segment-pair", "new-segment-pair", "route-fan-out", "segment-fan-out"],
            findings.Select(Kind).Order(StringComparer.Ordinal).ToArray());

        var fanOut = findings.Single(f => Kind(f) == "segment-fan-out");
        Assert.Equal(2004, fanOut.GetProperty("class_uid").GetInt32());
        Assert.Equal(200401, fanOut.GetProperty("type_uid").GetInt32());
        Assert.Equal(3, fanOut.GetProperty("unmapped").GetProperty("ztgw").GetProperty("count").GetInt32());
        Assert.Equal("engineering", fanOut.GetProperty("unmapped").GetProperty("ztgw").GetProperty("dst_segment").GetString());
        Assert.Equal(answers[5].DecisionId, fanOut.GetProperty("finding_info").GetProperty("related_events")[0].GetProperty("uid").GetString());
        Assert.Equal("Detected", fanOut.GetProperty("disposition").GetString());

        var pairs = findings.Where(f => Kind(f) == "new-segment-pair")
            .Select(f => f.GetProperty("unmapped").GetProperty("ztgw").GetProperty("dst_segment").GetString()).Order(StringComparer.Ordinal);
        Assert.Equal(["engineering", "hr"], pairs);

        // Alert only: mallory keeps her normal access.
        Assert.Equal(HttpStatusCode.OK, (await Send("finance", "/ledger/3", _identity.User(_gateway!.Time.GetUtcNow(), "mallory", ["finance-staff"]))).Status);
    }

    [Fact]
    public async Task ScriptedProbe_InContainMode_CutsTheProberOff_AndNotTheNormalUser()
    {
        await RunAsync("contain");
        var now = _gateway!.Time.GetUtcNow();
        var mallory = _identity.User(now, "mallory", ["finance-staff"]);
        var alice = _identity.User(now, "alice", ["finance-staff"]);

        // The first finding (hr reached from finance for the first time) contains her.
        var first = Findings()[0];
        Assert.Equal("new-segment-pair", Kind(first));
        Assert.Equal("Quarantined", first.GetProperty("disposition").GetString());
        Assert.True(first.GetProperty("unmapped").GetProperty("ztgw").GetProperty("contained_until").GetInt64() > now.ToUnixTimeMilliseconds());

        Assert.True(await ContinuousGateway.EventuallyAsync(
            async () => (await Send("finance", "/ledger/1", mallory)).Reason == "principal-quarantined", TimeSpan.FromSeconds(5)));
        Assert.Equal(HttpStatusCode.OK, (await Send("finance", "/ledger/1", alice)).Status);
        Assert.All(Findings(), f => Assert.Equal("mallory", Actor(f)));

        // The containment is durable and lapses after containFor.
        await _gateway.RestartAsync();
        Assert.Equal("principal-quarantined", (await Send("finance", "/ledger/1", mallory)).Reason);
        _gateway.Time.Advance(TimeSpan.FromMinutes(31));
        var later = _identity.User(_gateway.Time.GetUtcNow(), "mallory", ["finance-staff"]);
        Assert.Equal(HttpStatusCode.OK, (await Send("finance", "/ledger/1", later)).Status);
    }

    [Fact]
    public async Task WorkloadTokenFromOutsideItsSegment_RaisesAFindingEachTime()
    {
        _gateway = await ContinuousGateway.StartAsync(_identity, _transmitter, Segments(), detection: Detection("alert"));
        var engine = _identity.Workload(_gateway.Time.GetUtcNow(), PayrollEngine);

        Assert.Equal("source-mismatch", (await Send("hr", "/payroll/run", engine)).Reason);
        Assert.Equal("source-mismatch", (await Send("hr", "/payroll/run", engine)).Reason);

        var findings = Findings();
        Assert.Equal(2, findings.Count);
        Assert.All(findings, f =>
        {
            Assert.Equal("source-mismatch", Kind(f));
            Assert.Equal(PayrollEngine, Actor(f));
            Assert.Equal("System", f.GetProperty("actor").GetProperty("user").GetProperty("type").GetString());
        });
    }
}
