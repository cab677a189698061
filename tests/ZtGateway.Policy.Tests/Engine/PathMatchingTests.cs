using ZtGateway.Policy.Engine;

namespace ZtGateway.Policy.Tests.Engine;

public class PathMatchingTests
{
    [Theory]
    [InlineData("/")]
    [InlineData("/payroll")]
    [InlineData("/payroll/")]
    [InlineData("/payroll/a/b")]
    [InlineData("/payroll/a b")]
    [InlineData("/payroll/gehälter/Zoë")]
    [InlineData("/a.b/c..d/...")]
    [InlineData("/payroll/a=b,c:d@e!$&'()*+")]
    public void IsCanonical_AcceptsPlainPaths(string path)
    {
        Assert.True(RequestPath.IsCanonical(path));
    }

    [Theory]
    [InlineData("")]
    [InlineData("payroll")]
    [InlineData("//payroll")]
    [InlineData("/payroll//admin/x")]
    [InlineData("/payroll/admin//")]
    [InlineData("/payroll/./admin")]
    [InlineData("/payroll/../admin")]
    [InlineData("/payroll/.")]
    [InlineData("/payroll/..")]
    [InlineData("/payroll/%2e%2e/admin")]
    [InlineData("/payroll/%2E/admin")]
    [InlineData("/payroll/.%2e/admin")]
    [InlineData("/payroll%2Fadmin/x")]
    [InlineData("/payroll/admin%2fx")]
    [InlineData("/payroll\\admin")]
    [InlineData("/payroll/%5cadmin")]
    [InlineData("/payroll/%5Cadmin")]
    [InlineData("/payroll/a\0b")]
    [InlineData("/payroll/a\tb")]
    [InlineData("/payroll/a\u007fb")]
    [InlineData("/payroll/%00")]
    [InlineData("/payroll/%0a")]
    [InlineData("/payroll/admin;x/run")]
    [InlineData("/payroll/..;/admin/run")]
    [InlineData("/payroll/%41dmin")]
    [InlineData("/payroll/100%")]
    [InlineData("/payroll/%zz")]
    [InlineData("/payroll/a%20b")]
    public void IsCanonical_RejectsPathTricks(string path)
    {
        Assert.False(RequestPath.IsCanonical(path));
    }

    [Theory]
    [InlineData("/", "")]
    [InlineData("/payroll", "L")]
    [InlineData("/payroll/", "L")]
    [InlineData("/payroll/{id}", "LP")]
    [InlineData("/payroll/{**rest}", "LC")]
    [InlineData("/payroll/{*rest}", "LC")]
    [InlineData("/{tenant}/reports/{**rest}", "PLC")]
    public void Parse_ReadsSegmentKinds(string template, string kinds)
    {
        var parsed = CompiledPathTemplate.Parse(template);

        var actual = string.Concat(parsed.Segments.Select(s => s.Kind switch
        {
            TemplateSegmentKind.Literal => "L",
            TemplateSegmentKind.Parameter => "P",
            TemplateSegmentKind.CatchAll => "C",
            _ => "?",
        }));
        Assert.Equal(kinds, actual);
    }

    [Theory]
    [InlineData("")]
    [InlineData("payroll")]
    [InlineData("//")]
    [InlineData("/a//b")]
    [InlineData("/{**rest}/x")]
    [InlineData("/{id:int}")]
    [InlineData("/{id?}")]
    [InlineData("/{}")]
    [InlineData("/{**}")]
    [InlineData("/a{b}")]
    [InlineData("/{id}/{ID}")]
    [InlineData("/./a")]
    [InlineData("/a/..")]
    public void TryParse_RejectsBadTemplates(string template)
    {
        Assert.False(CompiledPathTemplate.TryParse(template, out var parsed, out var error));
        Assert.Null(parsed);
        Assert.False(string.IsNullOrEmpty(error));
    }

    [Theory]
    [InlineData("/payroll/{**rest}", "/payroll", true)]
    [InlineData("/payroll/{**rest}", "/payroll/", true)]
    [InlineData("/payroll/{**rest}", "/payroll/a", true)]
    [InlineData("/payroll/{**rest}", "/payroll/a/b", true)]
    [InlineData("/payroll/{**rest}", "/PAYROLL/a", true)]
    [InlineData("/payroll/{**rest}", "/payrolls", false)]
    [InlineData("/payroll/{**rest}", "/pay", false)]
    [InlineData("/payroll/{**rest}", "/", false)]
    [InlineData("/payroll/{id}", "/payroll/7", true)]
    [InlineData("/payroll/{id}", "/payroll/7/", true)]
    [InlineData("/payroll/{id}", "/payroll", false)]
    [InlineData("/payroll/{id}", "/payroll/", false)]
    [InlineData("/payroll/{id}", "/payroll/7/x", false)]
    [InlineData("/", "/", true)]
    [InlineData("/", "/x", false)]
    [InlineData("/{**all}", "/", true)]
    [InlineData("/{**all}", "/any/depth/at/all", true)]
    [InlineData("/a/b", "/A/B/", true)]
    [InlineData("/a/b", "/a/b/c", false)]
    [InlineData("/a/b", "/a", false)]
    public void Matches_FollowsTemplate(string template, string path, bool expected)
    {
        Assert.Equal(expected, CompiledPathTemplate.Parse(template).Matches(path));
    }

    [Theory]
    [InlineData("/a/b", "/a/{id}")]
    [InlineData("/a/{id}", "/a/{**rest}")]
    [InlineData("/a", "/a/{**rest}")]
    [InlineData("/a/b/{**rest}", "/a/{**rest}")]
    [InlineData("/a/b/{**rest}", "/a/{id}/{**rest}")]
    [InlineData("/a/{id}/{**rest}", "/a/{**rest}")]
    public void CompareSpecificity_PutsMoreSpecificFirst(string moreSpecific, string lessSpecific)
    {
        var x = CompiledPathTemplate.Parse(moreSpecific);
        var y = CompiledPathTemplate.Parse(lessSpecific);

        Assert.True(CompiledPathTemplate.CompareSpecificity(x, y) < 0);
        Assert.True(CompiledPathTemplate.CompareSpecificity(y, x) > 0);
    }

    [Theory]
    [InlineData("/payroll", "exact")]
    [InlineData("/payroll/", "exact")]
    [InlineData("/payroll/7", "param")]
    [InlineData("/payroll/admin", "literal")]
    [InlineData("/Payroll/Admin", "literal")]
    [InlineData("/payroll/admin/x", "admin-all")]
    [InlineData("/PAYROLL/ADMIN/x", "admin-all")]
    [InlineData("/payroll/7/x", "catch")]
    public void Route_MostSpecificWinsWhateverTheFileOrder(string path, string routeId)
    {
        var engine = TestRequests.Engine(TestPolicy.Policy(TestPolicy.Segment(
            "hr",
            TestPolicy.Route("catch", "/payroll/{**rest}"),
            TestPolicy.Route("param", "/payroll/{id}"),
            TestPolicy.Route("literal", "/payroll/admin"),
            TestPolicy.Route("admin-all", "/payroll/admin/{**rest}"),
            TestPolicy.Route("exact", "/payroll"))));

        var decision = EngineAssert.Decide(engine, TestRequests.For(null, path));

        Assert.Equal(ReasonCode.TokenMissing, decision.Reason);
        Assert.Equal(routeId, decision.RouteId);
    }

    [Fact]
    public void Route_TiesGoToFileOrder()
    {
        var engine = TestRequests.Engine(TestPolicy.Policy(TestPolicy.Segment(
            "hr",
            TestPolicy.Route("first", "/reports/{id}"),
            TestPolicy.Route("second", "/REPORTS/{name}"))));

        var decision = EngineAssert.Decide(engine, TestRequests.For(null, "/reports/q3"));

        Assert.Equal("first", decision.RouteId);
    }

    [Theory]
    [InlineData("GET", "/payroll/admin/x", "loose")]
    [InlineData("POST", "/payroll/admin/x", "admin")]
    [InlineData("post", "/payroll/admin/x", "admin")]
    [InlineData("get", "/payroll/x", "loose")]
    [InlineData("DELETE", "/payroll/x", null)]
    [InlineData("DELETE", "/payroll/admin/x", null)]
    public void Route_MethodFilterDropsRoutesThatDoNotTakeTheMethod(string method, string path, string? routeId)
    {
        var engine = TestRequests.Engine(TestPolicy.Policy(TestPolicy.Segment(
            "hr",
            TestPolicy.Route("loose", "/payroll/{**rest}").WithMethods("GET", "HEAD"),
            TestPolicy.Route("admin", "/payroll/admin/{**rest}").WithMethods("POST"))));

        var decision = EngineAssert.Decide(engine, TestRequests.For(null, path, method));

        Assert.Equal(routeId, decision.RouteId);
        Assert.Equal(routeId is null ? ReasonCode.RouteNotFound : ReasonCode.TokenMissing, decision.Reason);
    }

    [Fact]
    public void Route_NotFoundCarriesDestinationOnly()
    {
        var engine = TestRequests.Engine(DemoPolicy.Create());

        var decision = EngineAssert.Decide(engine, TestRequests.AliceRequest("/benefits"));

        Assert.False(decision.Allowed);
        Assert.Equal(ReasonCode.RouteNotFound, decision.Reason);
        Assert.Equal("hr", decision.DestinationSegment);
        Assert.Equal(string.Empty, decision.SourceSegment);
        Assert.Null(decision.RouteId);
        Assert.Null(decision.Service);
        Assert.Null(decision.RuleName);
    }

    [Fact]
    public void Route_UnknownDestinationSegmentIsNotFound()
    {
        var engine = TestRequests.Engine(DemoPolicy.Create());

        var decision = EngineAssert.Decide(engine, TestRequests.AliceRequest() with { Segment = "marketing" });

        Assert.Equal(ReasonCode.RouteNotFound, decision.Reason);
        Assert.Equal("marketing", decision.DestinationSegment);
        Assert.Null(decision.RouteId);
    }

    [Fact]
    public void Route_OfAnotherSegmentIsNotReachable()
    {
        var engine = TestRequests.Engine(DemoPolicy.Create());

        var decision = EngineAssert.Decide(engine, TestRequests.AliceRequest() with { Segment = "finance" });

        Assert.Equal(ReasonCode.RouteNotFound, decision.Reason);
        Assert.Equal("finance", decision.DestinationSegment);
    }

    [Theory]
    [InlineData("/payroll//admin/x")]
    [InlineData("/payroll/./admin")]
    [InlineData("/payroll/../admin")]
    [InlineData("/payroll/%2e%2e/admin")]
    [InlineData("/payroll/%2E%2E/admin")]
    [InlineData("/payroll%2Fadmin/x")]
    [InlineData("/payroll/admin%2fx")]
    [InlineData("/payroll/%2fadmin/x")]
    [InlineData("/payroll\\admin\\x")]
    [InlineData("/payroll/%5Cadmin")]
    [InlineData("/payroll/admin\0/x")]
    [InlineData("payroll/report")]
    [InlineData("")]
    [InlineData("/payroll/admin;x/run")]
    [InlineData("/payroll/..;/admin/run")]
    public void PathTricks_NeverReachARoute(string path)
    {
        // Alice is allowed on payroll-read; a trick must not get her (or anyone) routed at all.
        var engine = TestRequests.Engine(DemoPolicy.Create());

        var decision = EngineAssert.Decide(engine, TestRequests.AliceRequest(path));

        Assert.False(decision.Allowed);
        Assert.Equal(ReasonCode.PathInvalid, decision.Reason);
        Assert.Equal("hr", decision.DestinationSegment);
        Assert.Null(decision.RouteId);
    }

    // The request target as it came: what the listener decoded is checked, and so is what it was decoded from.
    [Theory]
    [InlineData("/payroll/report", "/payroll/admin;x/run")]
    [InlineData("/payroll/report", "/payroll/..;/admin/run")]
    [InlineData("/payroll/report", "/payroll/%2561dmin/run")]
    [InlineData("/payroll/report", "/payroll/%3Badmin")]
    [InlineData("/payroll/report", "/payroll/%3badmin")]
    [InlineData("/payroll/report", "/payroll/a%2Fb")]
    [InlineData("/payroll/report", "/payroll/a%2fb")]
    [InlineData("/payroll/report", "/payroll/a%5Cb")]
    [InlineData("/payroll/report", "/payroll/a%5cb")]
    [InlineData("/payroll/report", "/payroll/a\\b")]
    [InlineData("/payroll/report", "/payroll/%25")]
    [InlineData("/payroll/report", "/payroll/%00")]
    [InlineData("/payroll/report", "/payroll/%1F")]
    [InlineData("/payroll/report", "/payroll/%7f")]
    [InlineData("/payroll/report", "/payroll/a\tb")]
    [InlineData("/payroll/report", "/payroll/%C3")]
    [InlineData("/payroll/report", "/payroll/%C3%28")]
    [InlineData("/payroll/report", "/payroll/%FF%FE")]
    [InlineData("/payroll/report", "/payroll/%ED%A0%80")]
    [InlineData("/payroll/report", "/payroll/%C0%AF")]
    [InlineData("/payroll/report", "/payroll/%zz")]
    [InlineData("/payroll/report", "/payroll/%4")]
    [InlineData("/payroll/report", "/payroll/%")]
    [InlineData("/payroll/report", "http://hr.internal/payroll/admin;x")]
    [InlineData("/payroll/report", "hr.internal/payroll")]
    public void RawTargetTricks_ArePathInvalid(string path, string rawTarget)
    {
        var engine = TestRequests.Engine(DemoPolicy.Create());

        var decision = EngineAssert.Decide(engine, TestRequests.AliceRequest(path) with { RawTarget = rawTarget });

        Assert.Equal(ReasonCode.PathInvalid, decision.Reason);
    }

    [Theory]
    [InlineData("/payroll/report", "/payroll/report")]
    [InlineData("/payroll/report", "/payroll/report?x=a;b&next=%2Fadmin%25")]
    [InlineData("/payroll/report", "/payroll/%72eport")]
    [InlineData("/payroll/report", "/payroll/a/../report")]
    [InlineData("/payroll/report", "/payroll/./report")]
    [InlineData("/payroll/a b", "/payroll/a%20b")]
    [InlineData("/payroll/gehälter", "/payroll/geh%C3%A4lter")]
    [InlineData("/payroll/gehälter", "/payroll/gehälter")]
    [InlineData("/payroll/😀", "/payroll/%F0%9F%98%80")]
    [InlineData("/payroll/report", "http://hr.internal:8082/payroll/report?q")]
    public void PlainRawTargets_AreRouted(string path, string rawTarget)
    {
        var engine = TestRequests.Engine(DemoPolicy.Create());

        var decision = EngineAssert.Decide(engine, TestRequests.AliceRequest(path) with { RawTarget = rawTarget });

        Assert.NotEqual(ReasonCode.PathInvalid, decision.Reason);
        Assert.Equal("payroll-read", decision.RouteId);
    }

    [Fact]
    public void PathTricks_ControlAllowsTheCanonicalPath()
    {
        var engine = TestRequests.Engine(DemoPolicy.Create());

        var decision = EngineAssert.Decide(engine, TestRequests.AliceRequest("/payroll/report"));

        Assert.True(decision.Allowed);
        Assert.Equal("payroll-read", decision.RouteId);
    }

    [Theory]
    [InlineData("/PAYROLL/ADMIN/x")]
    [InlineData("/Payroll/admin/")]
    [InlineData("/payroll/Admin")]
    public void CaseVariantOfAdminPath_ReachesTheStricterRoute(string path)
    {
        // Alice may read payroll but is no PayrollAdmin: a case trick must land on payroll-admin and be refused there.
        var engine = TestRequests.Engine(DemoPolicy.Create());

        var decision = EngineAssert.Decide(engine, TestRequests.AliceRequest(path));

        Assert.False(decision.Allowed);
        Assert.Equal("payroll-admin", decision.RouteId);
        Assert.Equal(ReasonCode.NoMatchingRule, decision.Reason);
    }

    [Fact]
    public void Constructor_RejectsUnparsableTemplate()
    {
        var policy = TestPolicy.Policy(TestPolicy.Segment("hr", TestPolicy.Route("bad", "/a/{**rest}/b")));

        var error = Assert.Throws<ArgumentException>(() => TestRequests.Engine(policy));

        Assert.Contains("route bad", error.Message, StringComparison.Ordinal);
    }
}
