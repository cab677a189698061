using System.Net;
using ZtGateway.Policy.Analysis;
using ZtGateway.Policy.Analysis.Rendering;
using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Engine;

namespace ZtGateway.Policy.Tests.Analysis.Rendering;

/// <summary>
/// Explain's text and JSON on the shipped sample. The golden files are what <c>ztgw explain --at 2026-06-01T12:00:00Z</c>
/// printed for the same requests before its writing moved here.
/// </summary>
public sealed class ExplainRendererTests
{
    private static readonly UserAttributes Alice = new() { Subject = "alice", Groups = ["hr-staff"], Amr = ["pwd", "mfa"], AuthAge = TimeSpan.FromMinutes(10) };

    private static readonly UserAttributes Bob = new() { Subject = "bob", Roles = ["PayrollAdmin"], Amr = ["pwd", "mfa"], Acr = "phr", AuthAge = TimeSpan.FromDays(2) };

    private static readonly DeviceAttributes HrLaptop = new() { Id = "device", Segment = "hr", Compliant = true, Managed = true };

    public static TheoryData<string, bool> Cases()
    {
        var cases = new TheoryData<string, bool>();
        foreach (var name in Requests.Keys)
        {
            cases.Add(name, false);
            cases.Add(name, true);
        }

        return cases;
    }

    private static Dictionary<string, Func<RequestContext>> Requests { get; } = new(StringComparer.Ordinal)
    {
        ["wrongsrc"] = () => Context(new() { Segment = "hr", Path = "/payroll/x", User = Alice, Device = HrLaptop with { Segment = "finance" } }),
        ["stepup"] = () => Context(new() { Segment = "hr", Method = "POST", Path = "/payroll/admin/run", ClientAddress = IPAddress.Parse("10.20.0.5"), User = Bob, Device = HrLaptop }),
        ["mfa"] = () => Context(new()
        {
            Segment = "hr", Method = "POST", Path = "/payroll/admin/run", ClientAddress = IPAddress.Parse("10.20.0.5"),
            User = Bob with { Amr = ["pwd"], Acr = null, AuthAge = TimeSpan.FromMinutes(1) }, Device = HrLaptop,
        }),
        ["allow"] = () => Context(new() { Segment = "hr", Path = "/payroll/x", ClientAddress = IPAddress.Parse("10.20.0.5"), User = Alice, Device = HrLaptop }),
        ["denyrule"] = () => Context(new()
        {
            Segment = "hr", Path = "/payroll/admin/x",
            User = new() { Subject = "carl", Groups = ["contractors"], Roles = ["PayrollAdmin"], Amr = ["mfa"] }, Device = HrLaptop,
        }),
        ["noroute"] = () => Context(new() { Segment = "hr", Path = "/nothing/here", User = new() { Subject = "alice", Groups = ["hr-staff"] } }),
        ["workload"] = () => Context(new() { Segment = "hr", Path = "/payroll/x", ClientAddress = IPAddress.Parse("10.30.0.7"), Workload = "spiffe://corp.example/finance/ledger-sync" }),
        ["anon"] = () => Context(new() { Segment = "hr", Path = "/payroll/x" }),
        ["nodevice"] = () => Context(new() { Segment = "hr", Path = "/payroll/x", ClientAddress = IPAddress.Parse("10.20.0.5"), User = Alice with { Amr = ["mfa"], AuthAge = TimeSpan.Zero } }),
        ["unknownseg"] = () => Context(new() { Segment = "nowhere", Path = "/payroll/x", User = new() { Subject = "alice" } }),

        // As the verifiers leave a request whose token or posture assertion does not parse.
        ["badtoken"] = () => Context(new() { Segment = "hr", Path = "/payroll/x" }) with { Token = TokenStatus.Invalid },
        ["baddevice"] = () => Context(new() { Segment = "hr", Path = "/payroll/x", User = Alice with { Amr = ["mfa"], AuthAge = TimeSpan.Zero } })
            with { DeviceStatus = DeviceStatus.Invalid, Device = null },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Explain_WritesWhatZtgwExplainPrinted(string name, bool json)
    {
        var request = Requests[name]();
        var report = new ExplainReport
        {
            Explanation = SamplePolicy.Engine().Explain(request),
            Request = request,
            At = SamplePolicy.At,
            TokenDetail = name == "badtoken" ? "malformed token" : null,
            DeviceDetail = name == "baddevice" ? "malformed device assertion" : null,
        };

        Golden.AssertMatches($"sample-explain-{name}.{(json ? "json" : "txt")}",
            Golden.Capture(o => ReportRenderer.Render(report, json ? ReportFormat.Json : ReportFormat.Text, o)));
    }

    [Theory]
    [InlineData(ReportFormat.Mermaid)]
    [InlineData(ReportFormat.Dot)]
    public void DiagramFormats_AreRefused_ForExplainAndDiff(ReportFormat format)
    {
        var request = Requests["anon"]();
        var report = new ExplainReport { Explanation = SamplePolicy.Engine().Explain(request), Request = request, At = SamplePolicy.At };
        var diff = PolicyDiff.Compare(SamplePolicy.Engine(), SamplePolicy.Engine());

        Assert.Throws<ArgumentOutOfRangeException>(() => ReportRenderer.Render(report, format, TextWriter.Null));
        Assert.Throws<ArgumentOutOfRangeException>(() => ReportRenderer.Render(diff, format, TextWriter.Null));
    }

    private static RequestContext Context(RequestAttributes attributes) => attributes.ToContext(SamplePolicy.At);
}
