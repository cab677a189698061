using ZtGateway.Policy.Analysis;
using ZtGateway.Policy.Analysis.Rendering;

namespace ZtGateway.Policy.Tests.Analysis;

public sealed class PolicyDiffTests
{
    private const string Finance = """
        segment: finance
        listen: http://127.0.0.1:0
        members:
          workloads: [spiffe://t/finance/ledger-sync]
          networks: [10.10.0.0/16]
        services:
          ledger:
            destinations: [http://127.0.0.1:7001]
        routes:
          - id: ledger-read
            match: { path: "/ledger/{**rest}", methods: [GET] }
            service: ledger
            allow:
              - name: finance-staff
                from: [finance]
                users: { groups: [finance-staff] }
        """;

    private const string Hr = """
        segment: hr
        listen: http://127.0.0.1:0
        members:
          workloads: [spiffe://t/hr/payroll-engine]
          networks: [10.20.0.0/16]
        services:
          payroll:
            destinations: [http://127.0.0.1:7002]
        routes:
          - id: payroll-read
            match: { path: "/payroll/{**rest}", methods: [GET] }
            service: payroll
            allow:
              - name: hr-staff
                from: [hr]
                users: { groups: [hr-staff] }
              - name: ledger-sync
                from: [finance]
                workloads: [spiffe://t/finance/ledger-sync]
                until: 2026-12-31T00:00:00Z
          - id: reports
            match: { path: "/reports/{**rest}", methods: [GET] }
            service: payroll
            allow:
              - name: hr-staff
                from: [hr]
                users: { groups: [hr-staff] }
          - id: payroll-admin
            match: { path: "/payroll/admin/{**rest}" }
            service: payroll
            allow:
              - name: payroll-admins
                from: [hr]
                users: { roles: [PayrollAdmin] }
                maxAuthAge: 15m
                device: { compliant: true, managed: true, maxRisk: low }
            deny:
              - name: no-contractors
                users: { groups: [contractors] }
        """;

    [Fact]
    public void SamePolicy_ChangesNothing()
    {
        var report = Diff(Hr);

        Assert.Empty(report.Changes);
        Assert.False(report.Opens);
    }

    [Fact]
    public void AddedRule_OpensItsPath_AndNothingElse()
    {
        var report = Diff(Change(Hr, "      - name: ledger-sync\n", "      - name: auditors\n        from: [finance]\n        users: { groups: [auditors] }\n      - name: ledger-sync\n"));

        var change = Assert.Single(report.Changes);
        Assert.Equal(AccessChangeKind.Opened, change.Kind);
        Assert.Equal(("finance", "hr", "payroll-read", "/payroll/{**rest}"), (change.SourceSegment, change.DestinationSegment, change.RouteId, change.Path));
        Assert.Equal(["GET"], change.Methods);
        Assert.Equal("group auditors", change.Principal);
        Assert.Equal("auditors", change.Rule);
        Assert.True(report.Opens);
    }

    [Fact]
    public void WidenedFrom_OpensTheNewSourcesOnly()
    {
        var report = Diff(Change(Hr, "from: [hr]\n        users: { groups: [hr-staff] }\n      - name: ledger-sync", "from: [\"*\"]\n        users: { groups: [hr-staff] }\n      - name: ledger-sync"));

        Assert.All(report.Changes, c => Assert.Equal((AccessChangeKind.Opened, "payroll-read", "group hr-staff"), (c.Kind, c.RouteId, c.Principal)));
        Assert.Equal(["finance -> hr", "unknown -> hr"], report.Changes.Select(c => $"{c.SourceSegment} -> {c.DestinationSegment}"));
        Assert.True(report.Opens);
    }

    [Fact]
    public void MfaMadeOptional_IsAWeakenedRequirement()
    {
        var report = Diff(Change(Hr, "        users: { roles: [PayrollAdmin] }\n", "        users: { roles: [PayrollAdmin] }\n        mfa: optional\n"));

        var change = Assert.Single(report.Changes);
        Assert.Equal(AccessChangeKind.Weakened, change.Kind);
        Assert.Equal(("hr", "hr", "payroll-admin", "role PayrollAdmin"), (change.SourceSegment, change.DestinationSegment, change.RouteId, change.Principal));
        Assert.True(change.AnyMethod);
        Assert.Equal(["MFA made optional"], change.Details);
        Assert.True(report.Opens);
    }

    [Fact]
    public void RemovedRoute_ClosesItsPaths_AndOpensNothing()
    {
        var start = Hr.IndexOf("  - id: reports", StringComparison.Ordinal);
        var end = Hr.IndexOf("  - id: payroll-admin", StringComparison.Ordinal);

        var report = Diff(Hr.Remove(start, end - start));

        var change = Assert.Single(report.Changes);
        Assert.Equal(AccessChangeKind.Closed, change.Kind);
        Assert.Equal(("hr", "hr", "reports", "/reports/{**rest}", "group hr-staff"), (change.SourceSegment, change.DestinationSegment, change.RouteId, change.Path, change.Principal));
        Assert.False(report.Opens);
    }

    [Fact]
    public void ExtendedUntil_IsAWeakenedRequirement()
    {
        var report = Diff(Hr.Replace("until: 2026-12-31T00:00:00Z", "until: 2027-06-30T00:00:00Z", StringComparison.Ordinal));

        var change = Assert.Single(report.Changes);
        Assert.Equal((AccessChangeKind.Weakened, "finance", "workload spiffe://t/finance/ledger-sync"), (change.Kind, change.SourceSegment, change.Principal));
        Assert.Equal(["until extended from 2026-12-31T00:00:00Z to 2027-06-30T00:00:00Z"], change.Details);
    }

    [Fact]
    public void RenewingAnExpiredGrant_Opens()
    {
        var expired = Hr.Replace("until: 2026-12-31T00:00:00Z", "until: 2026-01-01T00:00:00Z", StringComparison.Ordinal);

        var report = PolicyDiff.Compare(Engine(expired), Engine(Hr));

        var change = Assert.Single(report.Changes);
        Assert.Equal((AccessChangeKind.Opened, "ledger-sync"), (change.Kind, change.Rule));
    }

    [Fact]
    public void LoosenedDevice_AndRaisedMaxAuthAge_AreEachCalledOut()
    {
        var report = Diff(Hr
            .Replace("maxAuthAge: 15m", "maxAuthAge: 12h", StringComparison.Ordinal)
            .Replace("device: { compliant: true, managed: true, maxRisk: low }", "device: any", StringComparison.Ordinal));

        var change = Assert.Single(report.Changes);
        Assert.Equal(AccessChangeKind.Weakened, change.Kind);
        Assert.Equal(
            [
                "maxAuthAge raised from 15m to 12h", "device no longer required", "compliant device no longer required",
                "managed device no longer required", "device risk allowed up to high (was low)",
            ],
            change.Details);
    }

    [Fact]
    public void LoweredMaxAuthAge_IsTightened_AndDoesNotOpen()
    {
        var report = Diff(Hr.Replace("maxAuthAge: 15m", "maxAuthAge: 5m", StringComparison.Ordinal));

        var change = Assert.Single(report.Changes);
        Assert.Equal(AccessChangeKind.Tightened, change.Kind);
        Assert.Equal(["maxAuthAge lowered from 15m to 5m"], change.Details);
        Assert.False(report.Opens);
    }

    [Fact]
    public void RemovedDenyRule_Opens()
    {
        var start = Hr.IndexOf("    deny:", StringComparison.Ordinal);

        var report = Diff(Hr[..start]);

        Assert.NotEmpty(report.Changes);
        Assert.All(report.Changes, c => Assert.Equal((AccessChangeKind.Opened, "group contractors", "payroll-admin"), (c.Kind, c.Principal, c.RouteId)));
        Assert.All(report.Changes, c => Assert.Equal(["deny rule 'no-contractors' removed"], c.Details));
        Assert.True(report.Opens);
    }

    [Fact]
    public void RenamedRoute_ChangesNoAccess()
    {
        var report = Diff(Change(Hr, "id: reports", "id: hr-reports"));

        Assert.Empty(report.Changes);
    }

    [Fact]
    public void WorkloadMovedToAnotherSegment_ClosesItsGrant()
    {
        var after = Hr.Replace("workloads: [spiffe://t/hr/payroll-engine]", "workloads: [spiffe://t/hr/payroll-engine, spiffe://t/finance/ledger-sync]", StringComparison.Ordinal);
        var financeAfter = Finance.Replace("workloads: [spiffe://t/finance/ledger-sync]", "workloads: []", StringComparison.Ordinal);

        var report = PolicyDiff.Compare(Engine(Hr), Engine(after, financeAfter));

        var change = Assert.Single(report.Changes);
        Assert.Equal((AccessChangeKind.Closed, "finance", "workload spiffe://t/finance/ledger-sync"), (change.Kind, change.SourceSegment, change.Principal));
    }

    [Fact]
    public void Text_GroupsBySegmentPair_AndSummarises()
    {
        var report = Diff(Hr
            .Replace("until: 2026-12-31T00:00:00Z", "until: 2027-06-30T00:00:00Z", StringComparison.Ordinal)
            .Replace("users: { roles: [PayrollAdmin] }", "users: { roles: [PayrollAdmin] }\n        mfa: optional", StringComparison.Ordinal));
        var output = new StringWriter();

        ReportRenderer.Render(report, ReportFormat.Text, output);

        Assert.Equal(
            """
            finance -> hr
              weakens   GET /payroll/{**rest} (route payroll-read, rule ledger-sync) for workload spiffe://t/finance/ledger-sync: until extended from 2026-12-31T00:00:00Z to 2027-06-30T00:00:00Z
            hr -> hr
              weakens   * /payroll/admin/{**rest} (route payroll-admin, rule payroll-admins) for role PayrollAdmin: MFA made optional
            0 opened, 2 weakened, 0 closed, 0 tightened

            """.ReplaceLineEndings(),
            output.ToString());
    }

    // Replaces text that must be there, so that a test never passes on an edit that did not happen.
    private static string Change(string text, string old, string replacement)
    {
        Assert.Contains(old, text, StringComparison.Ordinal);
        return text.Replace(old, replacement, StringComparison.Ordinal);
    }

    private static PolicyDiffReport Diff(string hrAfter) => PolicyDiff.Compare(Engine(Hr), Engine(hrAfter));

    private static ZtGateway.Policy.Engine.PolicyEngine Engine(string hr, string finance = Finance) =>
        AnalysisPolicy.Engine(new Dictionary<string, string> { ["hr"] = hr, ["finance"] = finance });
}
