using ZtGateway.Policy.Engine;

namespace ZtGateway.Policy.Tests.Engine;

/// <summary>
/// The raw-target half of the strict-path check, on what fuzzing the check against a decoder of its own found:
/// C1 control characters, raw or escaped, a <c>#</c> that hid the rest of the path from the check, and targets that
/// are no request target at all (an empty path before the query, a "scheme" of any characters before <c>://</c>).
/// </summary>
public class RequestPathTests
{
    [Theory]
    [InlineData("/payroll/a\u0085b", "/payroll/a\u0085b")]
    [InlineData("/payroll/a\u009fb", "/payroll/a\u009fb")]
    [InlineData("/payroll/a%C2%85b", "/payroll/a\u0085b")]
    [InlineData("/payroll/a%c2%80b", "/payroll/a\u0080b")]
    [InlineData("http://gateway.example/payroll/a%C2%9Fb", "/payroll/a\u009fb")]
    public void Refuses_C1ControlCharacters(string rawTarget, string path)
    {
        Assert.False(RequestPath.IsUnambiguous(path, rawTarget));
    }

    [Theory]
    [InlineData("/payroll/a%C2%85b")]
    [InlineData("/payroll/a\u0085b")]
    public void Refuses_C1ControlCharacters_InTheTargetAlone(string rawTarget)
    {
        // The decoded path given is clean: the refusal comes from the raw target.
        Assert.False(RequestPath.IsUnambiguous("/payroll/ab", rawTarget));
    }

    [Theory]
    [InlineData("/payroll/admin#%2F")]
    [InlineData("/payroll#/..;/admin")]
    [InlineData("/payroll#%5Cadmin")]
    [InlineData("/payroll#%zz")]
    [InlineData("http://gateway.example/payroll#%2e%2e%2Fadmin")]
    public void Checks_WhatFollowsAHash_AsPath(string rawTarget)
    {
        Assert.False(RequestPath.IsUnambiguous("/payroll", rawTarget));
    }

    [Theory]
    [InlineData("/payroll/caf%C3%A9", "/payroll/café")]
    [InlineData("/payroll/%E2%82%AC%F0%9F%98%80", "/payroll/€😀")]
    [InlineData("/payroll/\u00a0", "/payroll/\u00a0")]
    [InlineData("/payroll/a?b=%C2%85;\\", "/payroll/a")]
    [InlineData("/payroll/a#b", "/payroll/a#b")]
    public void Accepts_PrintableUnicode_AndLeavesTheQueryAlone(string rawTarget, string path)
    {
        Assert.True(RequestPath.IsUnambiguous(path, rawTarget));
    }

    [Theory]
    [InlineData("/payroll/a\u0085b")]
    [InlineData("/payroll/a\u0080")]
    public void IsCanonical_RefusesC1ControlCharacters(string path)
    {
        Assert.False(RequestPath.IsCanonical(path));
    }

    [Theory]
    [InlineData("?x=1")]
    [InlineData("?/a%2Fb")]
    [InlineData("?@x://h/a;b")]
    [InlineData("*?/%00")]
    [InlineData("**")]
    [InlineData("payroll")]
    public void Refuses_TargetsThatAreNeitherAPathNorAbsoluteNorAnAsterisk(string rawTarget)
    {
        Assert.False(RequestPath.IsUnambiguous("/payroll", rawTarget));
    }

    [Theory]
    [InlineData("\u000b\u0000bb/://[x/payroll")]
    [InlineData("a;b://h/payroll")]
    [InlineData("h\ttp://h/payroll")]
    [InlineData("1http://h/payroll")]
    [InlineData("\u00e9://h/payroll")]
    [InlineData("http://h\\evil/payroll")]
    [InlineData("http://h\u0000/payroll")]
    [InlineData("http://h;x/payroll")]
    public void Refuses_AbsoluteFormWithABadSchemeOrAuthority(string rawTarget)
    {
        Assert.False(RequestPath.IsUnambiguous("/payroll", rawTarget));
    }

    [Theory]
    [InlineData("*")]
    [InlineData("http://gateway.example/payroll?x")]
    [InlineData("https://gateway.example:8443/payroll")]
    [InlineData("svn+ssh.v2://user@gateway.example/payroll")]
    [InlineData("http://gateway.example?/a%2Fb;")]
    [InlineData("http://gateway.example")]
    public void Accepts_WellFormedAsteriskAndAbsoluteForms(string rawTarget)
    {
        Assert.True(RequestPath.IsUnambiguous("/payroll", rawTarget));
    }
}
