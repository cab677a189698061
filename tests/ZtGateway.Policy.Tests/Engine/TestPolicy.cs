using System.Net;
using ZtGateway.Policy.Configuration;

namespace ZtGateway.Policy.Tests.Engine;

/// <summary>Builds policy records directly, the way the loader would hand them to the engine.</summary>
internal static class TestPolicy
{
    public static readonly DateTimeOffset Now = new(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);

    public static PolicySet Policy(params SegmentConfig[] segments) => Policy(new IdentitySettings(), segments);

    public static PolicySet Policy(IdentitySettings identity, params SegmentConfig[] segments) => new()
    {
        Gateway = new GatewayConfig { FilePath = "/etc/ztgw/gateway.yaml", Identity = identity },
        Segments = segments.ToDictionary(s => s.Name, StringComparer.Ordinal),
        Version = "test",
    };

    public static SegmentConfig Segment(string name, params PolicyRoute[] routes) => new()
    {
        Name = name,
        Listen = "http://127.0.0.1:0",
        FilePath = $"/etc/ztgw/segments/{name}.yaml",
        Services = new Dictionary<string, ServiceConfig>
        {
            ["svc"] = new() { Name = "svc", Destinations = ["http://127.0.0.1:7000"] },
        },
        Routes = routes,
    };

    public static SegmentConfig WithMembers(this SegmentConfig segment, string[]? workloads = null, string[]? networks = null) =>
        segment with
        {
            Members = new SegmentMembers
            {
                Workloads = workloads ?? [],
                Networks = (networks ?? []).Select(IPNetwork.Parse).ToArray(),
            },
        };

    public static PolicyRoute Route(string id, string path, params RuleConfig[] allow) => new()
    {
        Id = id,
        Match = new RouteMatchConfig { Path = path },
        Service = "svc",
        Allow = allow,
    };

    public static PolicyRoute WithMethods(this PolicyRoute route, params string[] methods) =>
        route with { Match = route.Match with { Methods = methods } };

    public static PolicyRoute WithDeny(this PolicyRoute route, params RuleConfig[] deny) => route with { Deny = deny };

    public static RuleConfig Users(
        string name, string[]? from, string[]? groups = null, string[]? roles = null, string[]? subjects = null) => new()
        {
            Name = name,
            From = from,
            Users = new UserSelector { Groups = groups ?? [], Roles = roles ?? [], Subjects = subjects ?? [] },
        };

    public static RuleConfig Workloads(string name, string[]? from, params string[] workloads) => new()
    {
        Name = name,
        From = from,
        Workloads = workloads,
    };

    /// <summary>A rule that asks nothing of the user beyond being named: no MFA, any device.</summary>
    public static RuleConfig Relaxed(this RuleConfig rule) =>
        rule with { Mfa = MfaRequirement.Optional, Device = DeviceRequirement.AnyDevice };

    public static IPNetwork[] Networks(params string[] cidrs) => cidrs.Select(IPNetwork.Parse).ToArray();
}

/// <summary>
/// The demo topology of docs/design.md section 2.2: hr with its payroll routes, finance, engineering (networks only) and batch
/// (a workload segment without networks).
/// </summary>
internal static class DemoPolicy
{
    public const string PayrollEngine = "spiffe://corp.example/hr/payroll-engine";
    public const string LedgerSync = "spiffe://corp.example/finance/ledger-sync";
    public const string BatchRunner = "batch-runner";
    public static readonly DateTimeOffset LedgerGrantEnds = new(2026, 12, 31, 0, 0, 0, TimeSpan.Zero);

    public static PolicySet Create() => TestPolicy.Policy(
        Hr(),
        TestPolicy.Segment("finance").WithMembers([LedgerSync], ["10.30.0.0/16"]),
        TestPolicy.Segment("engineering").WithMembers(networks: ["10.40.0.0/16"]),
        TestPolicy.Segment("batch").WithMembers([BatchRunner]));

    public static SegmentConfig Hr() => TestPolicy.Segment("hr").WithMembers([PayrollEngine, "hr-portal"], ["10.20.0.0/16"]) with
    {
        Services = new Dictionary<string, ServiceConfig>
        {
            ["payroll"] = new() { Name = "payroll", Destinations = ["http://127.0.0.1:7102"] },
        },
        Routes =
        [
            TestPolicy.Route(
                    "payroll-read",
                    "/payroll/{**rest}",
                    TestPolicy.Users("hr-staff", ["hr"], groups: ["hr-staff"]),
                    TestPolicy.Workloads("ledger-sync", ["finance"], LedgerSync) with { Until = LedgerGrantEnds })
                .WithMethods("GET") with { Service = "payroll" },
            TestPolicy.Route(
                    "payroll-admin",
                    "/payroll/admin/{**rest}",
                    TestPolicy.Users("payroll-admins", ["hr"], roles: ["PayrollAdmin"]) with
                    {
                        MaxAuthAge = TimeSpan.FromMinutes(15),
                        Acr = ["phr"],
                        Device = new DeviceRequirement { Compliant = true, Managed = true, MaxRisk = RiskLevel.Low },
                    })
                .WithDeny(TestPolicy.Users("no-contractors", null, groups: ["contractors"])) with { Service = "payroll" },
        ],
    };
}
