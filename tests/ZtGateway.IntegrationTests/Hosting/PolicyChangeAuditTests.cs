using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ZtGateway.IntegrationTests.Infrastructure;
using ZtGateway.Tests.Audit.Ocsf;

namespace ZtGateway.IntegrationTests.Hosting;

/// <summary>
/// A real gateway writes one audit line for the policy it put in force at start and one for each reload, applied or
/// refused: OCSF 1.8.0 Entity Management on the policy, with the versions, the files' digests and what changed.
/// </summary>
public sealed class PolicyChangeAuditTests : IAsyncLifetime
{
    private readonly TestIdentity _identity = new();
    private EchoUpstream _ledger = null!;
    private TestGateway _gateway = null!;

    private string SegmentFile => Path.Combine(_gateway.Directory, "segments", "finance.yaml");

    private string Finance(bool withReports = false) => $$"""
        segment: finance
        listen: http://127.0.0.1:0
        members:
          networks: [127.0.0.0/8]
        defaults: { device: any }
        services:
          ledger: { destinations: [{{_ledger.Url}}] }
        routes:
          - id: ledger
            match: { path: "/ledger/{**rest}" }
            service: ledger
            allow:
              - { name: staff, from: [finance], users: { groups: [finance-staff] } }
        """ + (withReports ? $$"""

          - id: reports
            match: { path: "/reports/{**rest}", methods: [GET] }
            service: ledger
            allow:
              - { name: auditors, from: [finance], users: { groups: [auditors] } }
        """ : string.Empty) + "\n";

    public async Task InitializeAsync()
    {
        _ledger = await EchoUpstream.StartAsync("ledger");
        _gateway = await TestGateway.StartAsync(_identity, new Dictionary<string, string> { ["finance"] = Finance() });
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _ledger.DisposeAsync();
        _identity.Dispose();
    }

    private static string Sha256(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    private List<JsonElement> PolicyLines()
    {
        var lines = AuditLines.PolicyChanges(_gateway.AuditFile);
        foreach (var line in lines)
        {
            var violations = OcsfSchema.Vendored.Validate(line);
            Assert.True(violations.Count == 0, line.GetRawText() + "\n" + string.Join('\n', violations));
        }

        return lines;
    }

    private static JsonElement Ztgw(JsonElement line) => line.GetProperty("unmapped").GetProperty("ztgw");

    private static Dictionary<string, string> Files(JsonElement line) =>
        Ztgw(line).GetProperty("files").EnumerateArray().ToDictionary(f => f.GetProperty("path").GetString()!, f => f.GetProperty("sha256").GetString()!);

    private async Task<HttpStatusCode> Get(string path, string group)
    {
        using var client = _gateway.Client("finance");
        return (await Problem.SendAsync(client, HttpMethod.Get, path, _identity.User(_gateway.Time.GetUtcNow(), "alice", [group]))).Status;
    }

    [Fact]
    public void Start_WritesTheActivatedPolicy_WithItsVersionAndTheDigestOfEachFile()
    {
        var start = Assert.Single(PolicyLines());

        var version = _gateway.Host.State.Current.Policy.Version;
        Assert.Equal(3004, start.GetProperty("class_uid").GetInt32());
        Assert.Equal(10, start.GetProperty("activity_id").GetInt32());
        Assert.Equal(1, start.GetProperty("severity_id").GetInt32());
        Assert.Equal(version, start.GetProperty("entity").GetProperty("uid").GetString());
        Assert.Equal("policy-start", Ztgw(start).GetProperty("change").GetString());
        Assert.Equal(version, Ztgw(start).GetProperty("new_version").GetString());
        Assert.False(Ztgw(start).TryGetProperty("old_version", out _));
        Assert.Equal(new Dictionary<string, string>
        {
            [_gateway.GatewayFile] = Sha256(_gateway.GatewayFile),
            [SegmentFile] = Sha256(SegmentFile),
        }, Files(start));
    }

    [Fact]
    public async Task AReloadThatOpensARoute_WritesTheOldAndNewVersion_TheDigests_AndWhatItOpened()
    {
        var before = _gateway.Host.State.Current.Policy.Version;
        await File.WriteAllTextAsync(SegmentFile, Finance(withReports: true));

        var result = await _gateway.Host.ReloadAsync();

        Assert.True(result.Succeeded);
        Assert.Equal(HttpStatusCode.OK, await Get("/reports/q3", "auditors"));
        var applied = PolicyLines()[^1];
        var after = _gateway.Host.State.Current.Policy.Version;
        Assert.NotEqual(before, after);
        Assert.Equal(3, applied.GetProperty("activity_id").GetInt32());
        Assert.Equal(1, applied.GetProperty("status_id").GetInt32());
        Assert.Equal(3, applied.GetProperty("severity_id").GetInt32());
        Assert.Equal(after, applied.GetProperty("entity").GetProperty("uid").GetString());
        var ztgw = Ztgw(applied);
        Assert.Equal("policy-reload", ztgw.GetProperty("change").GetString());
        Assert.Equal(before, ztgw.GetProperty("old_version").GetString());
        Assert.Equal(after, ztgw.GetProperty("new_version").GetString());
        Assert.Equal(Sha256(SegmentFile), Files(applied)[SegmentFile]);
        Assert.Equal(Sha256(_gateway.GatewayFile), Files(applied)[_gateway.GatewayFile]);
        Assert.True(ztgw.GetProperty("opened").GetInt32() >= 1);
        Assert.Equal(0, ztgw.GetProperty("closed").GetInt32());
        Assert.Contains(ztgw.GetProperty("changes").EnumerateArray(), c =>
            c.GetString() == "finance -> finance: opens GET /reports/{**rest} (route reports, rule auditors) for group auditors");
    }

    [Fact]
    public async Task AReloadThatClosesAccess_IsInformational_AndSaysWhatItClosed()
    {
        await File.WriteAllTextAsync(SegmentFile, Finance(withReports: true));
        await _gateway.Host.ReloadAsync();
        await File.WriteAllTextAsync(SegmentFile, Finance());

        await _gateway.Host.ReloadAsync();

        var closed = PolicyLines()[^1];
        Assert.Equal(1, closed.GetProperty("severity_id").GetInt32());
        Assert.Equal(0, Ztgw(closed).GetProperty("opened").GetInt32());
        Assert.True(Ztgw(closed).GetProperty("closed").GetInt32() >= 1);
        Assert.Contains(Ztgw(closed).GetProperty("changes").EnumerateArray(), c => c.GetString()!.StartsWith("finance -> finance: closes GET /reports/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task BrokenYaml_WritesARefusedLine_WithTheDiagnostics_AndTheOldVersionStaysInForce()
    {
        var before = _gateway.Host.State.Current.Policy.Version;
        await File.WriteAllTextAsync(SegmentFile, "segment: finance\nroutes: [ {\n");

        var result = await _gateway.Host.ReloadAsync();

        Assert.False(result.Succeeded);
        Assert.Equal(before, _gateway.Host.State.Current.Policy.Version);
        Assert.Equal(HttpStatusCode.OK, await Get("/ledger/1", "finance-staff"));
        var lines = PolicyLines();
        Assert.Equal(2, lines.Count);
        var refused = lines[1];
        Assert.Equal(3, refused.GetProperty("activity_id").GetInt32());
        Assert.Equal(2, refused.GetProperty("status_id").GetInt32());
        Assert.Equal("policy-invalid", refused.GetProperty("status_detail").GetString());
        Assert.Equal(3, refused.GetProperty("severity_id").GetInt32());
        Assert.Equal(before, refused.GetProperty("entity_result").GetProperty("uid").GetString());
        var ztgw = Ztgw(refused);
        Assert.Equal("policy-refused", ztgw.GetProperty("change").GetString());
        Assert.Equal(before, ztgw.GetProperty("old_version").GetString());
        Assert.Equal(result.Version, ztgw.GetProperty("new_version").GetString());
        Assert.NotEqual(before, result.Version);
        Assert.Equal(Sha256(SegmentFile), Files(refused)[SegmentFile]);
        var diagnostics = ztgw.GetProperty("diagnostics").EnumerateArray().Select(d => d.GetString()!).ToList();
        Assert.NotEmpty(diagnostics);
        Assert.All(diagnostics, d => Assert.StartsWith(SegmentFile + ":", d, StringComparison.Ordinal));
        Assert.Contains(diagnostics[0], refused.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.False(ztgw.TryGetProperty("opened", out _));
    }

    [Fact]
    public async Task AValidEditThatMovesAListener_IsRefused_AsNeedingARestart()
    {
        var before = _gateway.Host.State.Current.Policy.Version;
        await File.WriteAllTextAsync(SegmentFile, Finance().Replace("listen: http://127.0.0.1:0", "listen: http://127.0.0.1:1", StringComparison.Ordinal));

        var result = await _gateway.Host.ReloadAsync();

        Assert.False(result.Succeeded);
        var refused = PolicyLines()[^1];
        Assert.Equal(2, refused.GetProperty("status_id").GetInt32());
        Assert.Equal("restart-required", refused.GetProperty("status_detail").GetString());
        Assert.Equal(before, Ztgw(refused).GetProperty("old_version").GetString());
        Assert.Equal(result.Version, Ztgw(refused).GetProperty("new_version").GetString());
        Assert.Contains(Ztgw(refused).GetProperty("diagnostics").EnumerateArray(), d => d.GetString()!.Contains("listen changed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TheLinesOfRequests_AndOfPolicyChanges_ShareTheFile_InOrder()
    {
        Assert.Equal(HttpStatusCode.OK, await Get("/ledger/1", "finance-staff"));
        await File.WriteAllTextAsync(SegmentFile, Finance(withReports: true));
        await _gateway.Host.ReloadAsync();
        Assert.Equal(HttpStatusCode.OK, await Get("/reports/1", "auditors"));

        var kinds = (await File.ReadAllLinesAsync(_gateway.AuditFile)).Select(l =>
        {
            using var json = JsonDocument.Parse(l);
            return AuditLines.IsPolicyChange(json.RootElement) ? Ztgw(json.RootElement).GetProperty("change").GetString()! : "request";
        });

        Assert.Equal(["policy-start", "request", "policy-reload", "request"], kinds);
        Assert.All(await File.ReadAllLinesAsync(_gateway.AuditFile), l =>
            Assert.Empty(OcsfSchema.Vendored.Validate(Encoding.UTF8.GetBytes(l))));
    }
}
