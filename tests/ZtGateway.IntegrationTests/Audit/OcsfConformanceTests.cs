using System.Net;
using System.Text;
using System.Text.Json;
using ZtGateway.IntegrationTests.Continuous;
using ZtGateway.IntegrationTests.Infrastructure;
using ZtGateway.Tests.Audit.Ocsf;

namespace ZtGateway.IntegrationTests.Audit;

/// <summary>
/// A scripted run through real listeners that makes the gateway write every kind of audit line (the reason codes a
/// request can meet, each method and one outside OCSF's list, findings in alert and contain mode, admin quarantines and
/// their release, each CAEP event), then checks each line against the vendored OCSF 1.8.0 schema and that the run
/// covered what it claims.
/// </summary>
public sealed class OcsfConformanceTests : IAsyncLifetime
{
    private readonly TestIdentity _identity = new();
    private readonly TestTransmitter _transmitter = new();
    private readonly TestDevices _devices = new();
    private EchoUpstream _upstream = null!;
    private ContinuousGateway _gateway = null!;

    private DateTimeOffset Now => _gateway.Time.GetUtcNow();

    public async Task InitializeAsync()
    {
        _upstream = await EchoUpstream.StartAsync("any");
        _gateway = await ContinuousGateway.StartAsync(_identity, _transmitter, Topology.Standard(_upstream.Url, _upstream.Url, DateTimeOffset.UtcNow.AddDays(1)),
            _devices, detection: "detection:\n  window: 10m\n  maxDenials: 8\n  learningPeriod: 0s\n  response: contain\n  containFor: 5m\n");
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
        _identity.Dispose();
        _transmitter.Dispose();
        _devices.Dispose();
    }

    private async Task<Problem> SendAsync(string segment, HttpMethod method, string path, string? token, string? posture = null)
    {
        using var client = _gateway.Client(segment);
        return await Problem.SendAsync(client, method, path, token, posture is null ? null : r => r.Headers.Add("X-Device-Posture", posture));
    }

    [Fact]
    public async Task EveryLineKindTheGatewayWrites_IsValidOcsf180()
    {
        var reasons = new List<string?>();
        async Task Expect(string reason, string segment, HttpMethod method, string path, string? token, string? posture = null)
        {
            var answer = await SendAsync(segment, method, path, token, posture);
            Assert.True(answer.Reason == reason || (reason == "allowed" && answer.Status == HttpStatusCode.OK), $"{path}: {answer.Status} {answer.Reason}");
            reasons.Add(reason);
        }

        var alice = _identity.User(Now, "alice", ["finance-staff"]);
        var laptop = _devices.Posture(Now, "laptop-7", "finance", user: "alice");
        await Expect("allowed", "finance", HttpMethod.Get, "/ledger/1", alice, laptop);
        await Expect("route-not-found", "finance", HttpMethod.Get, "/nowhere", alice);
        await Expect("token-missing", "finance", HttpMethod.Get, "/ledger/1", null);
        await Expect("token-invalid", "finance", HttpMethod.Get, "/ledger/1", "not-a-token");
        await Expect("token-expired", "finance", HttpMethod.Get, "/ledger/1", _identity.User(Now.AddHours(-3), "alice", ["finance-staff"]));
        await Expect("mfa-required", "finance", HttpMethod.Get, "/ledger/1", _identity.User(Now, "alice", ["finance-staff"], amr: ["pwd"]));
        await Expect("auth-too-old", "finance", HttpMethod.Post, "/ledger/close/q3",
            _identity.User(Now, "carol", roles: ["Controller"], acr: "phr", authAge: TimeSpan.FromHours(1)));
        await Expect("acr-insufficient", "finance", HttpMethod.Post, "/ledger/close/q3",
            _identity.User(Now, "carol", roles: ["Controller"], acr: "basic", authAge: TimeSpan.FromMinutes(1)));
        await Expect("device-missing", "finance", HttpMethod.Get, "/vault/keys", alice);
        await Expect("device-invalid", "finance", HttpMethod.Get, "/vault/keys", alice,
            _devices.Posture(Now, "laptop-7", "finance", user: "alice", key: _devices.SelfMadeKey));
        await Expect("denied-by-rule", "finance", HttpMethod.Get, "/archive/2019", _identity.User(Now, "dan", ["finance-staff", "contractors"]));
        await Expect("segment-not-allowed", "hr", HttpMethod.Get, "/payroll/alice", _identity.User(Now, "erin", ["finance-staff", "hr-staff"]));
        await Expect("source-mismatch", "hr", HttpMethod.Get, "/payroll/export", _identity.Workload(Now, Topology.PayrollEngine));
        await Expect("upstream-unavailable", "finance", HttpMethod.Get, "/dead/1", alice);
        await Expect("path-invalid", "finance", HttpMethod.Get, "/ledger/..;/vault/keys", alice);

        // Every method, and one outside OCSF's list (activity 99).
        var frank = _identity.User(Now, "frank", ["finance-staff"]);
        using (var finance = _gateway.Client("finance"))
        {
            foreach (var method in new[] { "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "PROPFIND" })
            {
                using var request = new HttpRequestMessage(new HttpMethod(method), "/ledger/close/x");
                request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", frank);
                using var response = await finance.SendAsync(request);
                Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            }
        }

        // Signals: each CAEP event, then what they make the gateway refuse.
        _gateway.Time.Advance(TimeSpan.FromSeconds(5));
        foreach (var (eventName, sub) in new[] { ("session-revoked", "gina"), ("credential-change", "hank"), ("assurance-level-change", "ivan") })
        {
            Assert.Equal(202, (await _gateway.PushAsync(_transmitter.UserEvent(Now, eventName, sub))).Status);
        }

        Assert.Equal(202, (await _gateway.PushAsync(_transmitter.DeviceEvent(Now, "laptop-8", "not-compliant"))).Status);
        await Expect("token-revoked", "finance", HttpMethod.Get, "/ledger/1", _identity.User(Now.AddSeconds(-10), "gina", ["finance-staff"]));
        await Expect("device-quarantined", "finance", HttpMethod.Get, "/ledger/1", alice, _devices.Posture(Now, "laptop-8", "finance", user: "alice"));
        Assert.Equal(202, (await _gateway.PushAsync(_transmitter.DeviceEvent(Now, "laptop-8", "compliant"))).Status);

        // An admin quarantines a principal, and lifts it.
        var admin = _identity.User(Now, "root", roles: ["ZtGatewayAdmin"]);
        Assert.Equal(200, (await _gateway.AdminAsync(HttpMethod.Put, "/admin/quarantine/principals/kate", admin, "{\"for\":\"1h\",\"reason\":\"test\"}")).Status);
        await Expect("principal-quarantined", "finance", HttpMethod.Get, "/ledger/1", _identity.User(Now, "kate", ["finance-staff"]));
        Assert.Equal(204, (await _gateway.AdminAsync(HttpMethod.Delete, "/admin/quarantine/principals/kate", admin)).Status);

        // Findings: a first-seen pair (learning is over at once) and a burst of denials, contained.
        var mallory = _identity.User(Now, "mallory", ["finance-staff"]);
        for (var i = 0; i < 9; i++)
        {
            await SendAsync("finance", HttpMethod.Get, $"/reports/{i}", mallory);
        }

        await SendAsync("hr", HttpMethod.Get, "/payroll/mallory", mallory);
        // The containment's hold is written by the detector's worker, a moment after the finding.
        Assert.True(await ContinuousGateway.EventuallyAsync(
            () => Task.FromResult(File.ReadLines(_gateway.AuditFile).Any(l => l.Contains("\"origin\":\"detection\"", StringComparison.Ordinal))),
            TimeSpan.FromSeconds(5)), "the finding's containment was never audited");

        var lines = File.ReadAllLines(_gateway.AuditFile);
        var parsed = lines.Select(l => JsonDocument.Parse(l).RootElement).ToList();
        foreach (var line in lines)
        {
            var violations = OcsfSchema.Vendored.Validate(Encoding.UTF8.GetBytes(line));
            Assert.True(violations.Count == 0, line + "\n" + string.Join('\n', violations));
        }

        // What the run covered: every line kind, reason, method and change it set out to make.
        Assert.Equal([2004, 3004, 4002], parsed.Select(l => l.GetProperty("class_uid").GetInt32()).Distinct().Order());
        var written = parsed.Where(l => l.GetProperty("class_uid").GetInt32() == 4002)
            .Select(l => l.GetProperty("unmapped").GetProperty("ztgw").GetProperty("reason").GetString()).ToHashSet();
        Assert.Superset(reasons.ToHashSet(), written);
        var activities = parsed.Where(l => l.GetProperty("class_uid").GetInt32() == 4002).Select(l => l.GetProperty("activity_id").GetInt32()).ToHashSet();
        Assert.Superset(new HashSet<int> { 2, 3, 4, 5, 6, 7, 8, 9, 99 }, activities);
        var changes = parsed.Where(l => l.GetProperty("class_uid").GetInt32() == 3004)
            .Select(l => l.GetProperty("unmapped").GetProperty("ztgw").GetProperty("change").GetString()).ToHashSet();
        Assert.Superset(new HashSet<string?> { "revoke", "step-up", "hold", "release" }, changes);
        var findings = parsed.Where(l => l.GetProperty("class_uid").GetInt32() == 2004)
            .Select(l => l.GetProperty("unmapped").GetProperty("ztgw").GetProperty("detection").GetString()).ToHashSet();
        Assert.Superset(new HashSet<string?> { "denial-burst", "new-segment-pair", "source-mismatch" }, findings);
    }
}
