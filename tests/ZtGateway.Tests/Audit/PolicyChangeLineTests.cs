using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using ZtGateway.Audit;
using ZtGateway.Tests.Audit.Ocsf;

namespace ZtGateway.Tests.Audit;

/// <summary>
/// The policy-change line in each shape (start, a reload that opens access, one that closes it, one whose comparison
/// failed, a refused reload): valid OCSF 1.8.0 Entity Management on the policy, with the fields of docs/design.md 6.2.
/// </summary>
public sealed class PolicyChangeLineTests
{
    private const string Old = "1111111111111111111111111111111111111111111111111111111111111111";
    private const string New = "2222222222222222222222222222222222222222222222222222222222222222";
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_000_000);

    private static readonly PolicyFileRecord[] Files =
    [
        new("/etc/ztgw/gateway.yaml", "aa00000000000000000000000000000000000000000000000000000000000000"),
        new("/etc/ztgw/segments/finance.yaml", "bb00000000000000000000000000000000000000000000000000000000000000"),
    ];

    private static PolicyChangeEvent Start() => new()
    {
        ChangeId = "0192f0a0-0000-7000-8000-000000000010",
        Time = Now,
        Change = PolicyChangeKind.Start,
        NewVersion = New,
        Files = Files,
    };

    private static PolicyChangeEvent Reload(PolicyChangeSummary? summary, string? error = null) => new()
    {
        ChangeId = "0192f0a0-0000-7000-8000-000000000011",
        Time = Now,
        Change = PolicyChangeKind.Reload,
        OldVersion = Old,
        NewVersion = New,
        Files = Files,
        Summary = summary,
        SummaryError = error,
    };

    private static PolicyChangeEvent Refused(int diagnostics = 2, string? newVersion = New, string refusal = "policy-invalid") => new()
    {
        ChangeId = "0192f0a0-0000-7000-8000-000000000012",
        Time = Now,
        Change = PolicyChangeKind.Refused,
        OldVersion = Old,
        NewVersion = newVersion,
        Files = newVersion is null ? [] : Files,
        Refusal = refusal,
        Diagnostics = [.. Enumerable.Range(1, diagnostics).Select(i => $"/etc/ztgw/segments/finance.yaml:{i}:3: error: problem {i}")],
    };

    private static readonly PolicyChangeSummary Opening = new()
    {
        Opened = 1,
        Weakened = 1,
        Closed = 0,
        Tightened = 0,
        Changes =
        [
            "finance -> finance: opens GET /ledger/{**rest} (route ledger, rule staff) for group auditors",
            "finance -> hr: weakens GET /payroll/{**rest} (route payroll-read, rule hr-staff) for group hr-staff: MFA made optional",
        ],
    };

    private static readonly PolicyChangeSummary Closing = new()
    {
        Opened = 0,
        Weakened = 0,
        Closed = 1,
        Tightened = 1,
        Changes =
        [
            "finance -> finance: closes GET /ledger/{**rest} (route ledger, rule staff) for group finance-staff",
            "finance -> finance: tightens POST /ledger/{**rest} (route ledger-write, rule accountants) for role Accountant: maxAuthAge lowered from 1h to 30m",
        ],
    };

    private static JsonElement Valid(PolicyChangeEvent change)
    {
        var line = OcsfWriter.PolicyChange(change);
        var violations = OcsfSchema.Vendored.Validate(line);
        Assert.True(violations.Count == 0, Encoding.UTF8.GetString(line) + "\n" + string.Join('\n', violations));
        Assert.Equal((byte)'\n', line[^1]);
        Assert.DoesNotContain((byte)'\n', line[..^1]);
        return JsonDocument.Parse(line).RootElement.Clone();
    }

    private static void AssertCommon(JsonElement root, int activity, int severity, int status)
    {
        Assert.Equal(1_800_000_000_000, root.GetProperty("time").GetInt64());
        Assert.Equal(3004, root.GetProperty("class_uid").GetInt32());
        Assert.Equal(3, root.GetProperty("category_uid").GetInt32());
        Assert.Equal(activity, root.GetProperty("activity_id").GetInt32());
        Assert.Equal(300400 + activity, root.GetProperty("type_uid").GetInt32());
        Assert.Equal(severity, root.GetProperty("severity_id").GetInt32());
        Assert.Equal(status, root.GetProperty("status_id").GetInt32());
        Assert.Equal("1.8.0", root.GetProperty("metadata").GetProperty("version").GetString());
        Assert.Equal(["host"], root.GetProperty("metadata").GetProperty("profiles").EnumerateArray().Select(p => p.GetString()));
        Assert.Equal("ztgw", root.GetProperty("actor").GetProperty("app_name").GetString());
        var entity = root.GetProperty("entity");
        Assert.Equal(5, entity.GetProperty("type_id").GetInt32());
        Assert.Equal("Policy", entity.GetProperty("type").GetString());
        Assert.Equal("ZtGateway policy", entity.GetProperty("name").GetString());
        var ztgw = Ztgw(root);
        var files = ztgw.GetProperty("files").EnumerateArray().ToList();
        Assert.Equal(Files.Select(f => f.Path), files.Select(f => f.GetProperty("path").GetString()));
        Assert.Equal(Files.Select(f => f.Sha256), files.Select(f => f.GetProperty("sha256").GetString()));
    }

    private static JsonElement Ztgw(JsonElement root) => root.GetProperty("unmapped").GetProperty("ztgw");

    [Fact]
    public void Start_ActivatesThePolicy_Informational_WithItsVersionAndFiles()
    {
        var root = Valid(Start());

        AssertCommon(root, activity: 10, severity: 1, status: 1);
        Assert.Equal("Activate", root.GetProperty("activity_name").GetString());
        Assert.Equal(New, root.GetProperty("entity").GetProperty("uid").GetString());
        Assert.Equal(New, root.GetProperty("entity").GetProperty("version").GetString());
        Assert.Equal(New, root.GetProperty("entity").GetProperty("policy").GetProperty("version").GetString());
        Assert.Equal(New, root.GetProperty("entity_result").GetProperty("uid").GetString());
        var ztgw = Ztgw(root);
        Assert.Equal("policy-start", ztgw.GetProperty("change").GetString());
        Assert.Equal(New, ztgw.GetProperty("new_version").GetString());
        Assert.False(ztgw.TryGetProperty("old_version", out _));
        Assert.False(ztgw.TryGetProperty("opened", out _));
        Assert.False(root.TryGetProperty("status_detail", out _));
    }

    [Fact]
    public void AReloadThatOpensAccess_IsAMediumUpdate_WithTheDiffSummary()
    {
        var root = Valid(Reload(Opening));

        AssertCommon(root, activity: 3, severity: 3, status: 1);
        Assert.Equal("Update", root.GetProperty("activity_name").GetString());
        Assert.Equal(New, root.GetProperty("entity").GetProperty("uid").GetString());
        Assert.Equal(New, root.GetProperty("entity_result").GetProperty("uid").GetString());
        Assert.Equal($"policy {New} replaces {Old}: 1 opened, 1 weakened, 0 closed, 0 tightened", root.GetProperty("message").GetString());
        var ztgw = Ztgw(root);
        Assert.Equal("policy-reload", ztgw.GetProperty("change").GetString());
        Assert.Equal(Old, ztgw.GetProperty("old_version").GetString());
        Assert.Equal(New, ztgw.GetProperty("new_version").GetString());
        Assert.Equal((1, 1, 0, 0), (ztgw.GetProperty("opened").GetInt32(), ztgw.GetProperty("weakened").GetInt32(),
            ztgw.GetProperty("closed").GetInt32(), ztgw.GetProperty("tightened").GetInt32()));
        Assert.Equal(Opening.Changes, ztgw.GetProperty("changes").EnumerateArray().Select(c => c.GetString()));
        Assert.False(ztgw.TryGetProperty("changes_truncated", out _));
    }

    [Fact]
    public void AReloadThatOnlyClosesAccess_IsInformational()
    {
        var root = Valid(Reload(Closing));

        AssertCommon(root, activity: 3, severity: 1, status: 1);
        var ztgw = Ztgw(root);
        Assert.Equal((0, 0, 1, 1), (ztgw.GetProperty("opened").GetInt32(), ztgw.GetProperty("weakened").GetInt32(),
            ztgw.GetProperty("closed").GetInt32(), ztgw.GetProperty("tightened").GetInt32()));
        Assert.Equal(Closing.Changes, ztgw.GetProperty("changes").EnumerateArray().Select(c => c.GetString()));
    }

    [Fact]
    public void AReloadThatChangesNoAccessPath_IsInformational_AndListsNoChanges()
    {
        var root = Valid(Reload(new PolicyChangeSummary { Opened = 0, Weakened = 0, Closed = 0, Tightened = 0, Changes = [] }));

        AssertCommon(root, activity: 3, severity: 1, status: 1);
        Assert.EndsWith(": no access path changed", root.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, Ztgw(root).GetProperty("opened").GetInt32());
        Assert.False(Ztgw(root).TryGetProperty("changes", out _));
    }

    [Fact]
    public void AReloadWhoseComparisonFailed_IsMedium_WithoutASummary_AndSaysWhy()
    {
        var root = Valid(Reload(null, "InvalidOperationException: boom"));

        AssertCommon(root, activity: 3, severity: 3, status: 1);
        var ztgw = Ztgw(root);
        Assert.Equal("InvalidOperationException: boom", ztgw.GetProperty("diff_error").GetString());
        Assert.False(ztgw.TryGetProperty("opened", out _));
        Assert.False(ztgw.TryGetProperty("changes", out _));
    }

    [Fact]
    public void ManyChanges_AreCapped_AndTheRestCounted()
    {
        var summary = new PolicyChangeSummary
        {
            Opened = 70,
            Weakened = 0,
            Closed = 0,
            Tightened = 0,
            Changes = [.. Enumerable.Range(0, 70).Select(i => $"finance -> hr: opens GET /r{i} (route r{i}) for group g")],
        };

        var ztgw = Ztgw(Valid(Reload(summary)));

        Assert.Equal(OcsfWriter.MaxPolicyChanges, ztgw.GetProperty("changes").GetArrayLength());
        Assert.Equal(70 - OcsfWriter.MaxPolicyChanges, ztgw.GetProperty("changes_truncated").GetInt32());
        Assert.Equal(70, ztgw.GetProperty("opened").GetInt32());
    }

    [Fact]
    public void ARefusedReload_IsAMediumFailedUpdate_NamingTheRefusedVersion_AndTheOneKeptInForce()
    {
        var root = Valid(Refused());

        AssertCommon(root, activity: 3, severity: 3, status: 2);
        Assert.Equal("Failure", root.GetProperty("status").GetString());
        Assert.Equal("policy-invalid", root.GetProperty("status_detail").GetString());
        Assert.Equal(New, root.GetProperty("entity").GetProperty("uid").GetString());
        Assert.Equal(Old, root.GetProperty("entity_result").GetProperty("uid").GetString());
        Assert.Equal($"policy {New} refused; policy {Old} keeps serving: /etc/ztgw/segments/finance.yaml:1:3: error: problem 1; " +
            "/etc/ztgw/segments/finance.yaml:2:3: error: problem 2", root.GetProperty("message").GetString());
        var ztgw = Ztgw(root);
        Assert.Equal("policy-refused", ztgw.GetProperty("change").GetString());
        Assert.Equal(Old, ztgw.GetProperty("old_version").GetString());
        Assert.Equal(New, ztgw.GetProperty("new_version").GetString());
        Assert.Equal(2, ztgw.GetProperty("diagnostics").GetArrayLength());
        Assert.False(ztgw.TryGetProperty("opened", out _));
    }

    [Fact]
    public void ManyDiagnostics_AreCapped_AndTheMessageRepeatsTheFirstFew()
    {
        var root = Valid(Refused(diagnostics: 25));

        var ztgw = Ztgw(root);
        Assert.Equal(OcsfWriter.MaxPolicyDiagnostics, ztgw.GetProperty("diagnostics").GetArrayLength());
        Assert.Equal(25 - OcsfWriter.MaxPolicyDiagnostics, ztgw.GetProperty("diagnostics_truncated").GetInt32());
        Assert.EndsWith("problem 3 (and 22 more)", root.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void ARefusalThatNeedsARestart_SaysSo()
    {
        var root = Valid(Refused(diagnostics: 1, refusal: "restart-required"));

        Assert.Equal("restart-required", root.GetProperty("status_detail").GetString());
    }

    [Fact]
    public void ARefusalOfAnUnreadableGatewayFile_HasNoNewVersion_AndIsStillValid()
    {
        var line = OcsfWriter.PolicyChange(Refused(diagnostics: 1, newVersion: null));
        var violations = OcsfSchema.Vendored.Validate(line);
        Assert.True(violations.Count == 0, Encoding.UTF8.GetString(line) + "\n" + string.Join('\n', violations));
        var root = JsonDocument.Parse(line).RootElement;

        Assert.False(root.GetProperty("entity").TryGetProperty("uid", out _));
        Assert.Equal(Old, root.GetProperty("entity_result").GetProperty("uid").GetString());
        Assert.False(Ztgw(root).TryGetProperty("new_version", out _));
        Assert.False(Ztgw(root).TryGetProperty("files", out _));
    }

    [Fact]
    public void AuditTrail_WritesThePolicyChange_ToEverySink()
    {
        var first = new Sink();
        var second = new Sink();
        using var trail = new AuditTrail([first, second], auditAllows: true, NullLogger.Instance);

        trail.RecordPolicyChange(Reload(Opening));

        Assert.Equal(OcsfWriter.PolicyChange(Reload(Opening)), Assert.Single(first.Lines));
        Assert.Equal(OcsfWriter.PolicyChange(Reload(Opening)), Assert.Single(second.Lines));
    }

    private sealed class Sink : IAuditSink
    {
        public List<byte[]> Lines { get; } = [];

        public string Name => "test";

        public void Write(ReadOnlySpan<byte> line) => Lines.Add(line.ToArray());

        public void Dispose()
        {
        }
    }
}
