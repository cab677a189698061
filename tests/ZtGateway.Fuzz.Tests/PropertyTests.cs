using ZtGateway.Fuzz.Targets;

namespace ZtGateway.Fuzz.Tests;

/// <summary>The targets' own checks refuse what they must: a replay that passes means the properties held.</summary>
public sealed class PropertyTests
{
    [Theory]
    [InlineData("/a%2Fb")]
    [InlineData("/a%2fb")]
    [InlineData("/a;b")]
    [InlineData("/a%3Bb")]
    [InlineData("/a%5Cb")]
    [InlineData("/a%25b")]
    [InlineData("/a%0Ab")]
    [InlineData("/a%C2%85b")]
    [InlineData("/a%C3")]
    [InlineData("/a%zz")]
    [InlineData("/a%2")]
    [InlineData("http://h/a%2Fb?x")]
    [InlineData("a/b")]
    public void RawTargetCheck_RefusesWhatAnUpstreamCouldMisread(string rawTarget)
    {
        Assert.Throws<PropertyViolationException>(() => RequestPathTarget.CheckRawTarget(rawTarget));
    }

    [Theory]
    [InlineData("/a/b?x=%2F;")]
    [InlineData("/caf%C3%A9")]
    [InlineData("http://h/a/b")]
    [InlineData("*")]
    public void RawTargetCheck_AcceptsPlainTargets(string rawTarget)
    {
        RequestPathTarget.CheckRawTarget(rawTarget);
    }

    [Theory]
    [InlineData("a/b")]
    [InlineData("/a//b")]
    [InlineData("/a/../b")]
    [InlineData("/a/./b")]
    [InlineData("/a%b")]
    [InlineData("/a\u0085b")]
    public void DecodedPathCheck_RefusesAmbiguousPaths(string path)
    {
        Assert.Throws<PropertyViolationException>(() => RequestPathTarget.CheckDecodedPath(path));
    }

    [Theory]
    [InlineData("/a/b", "/a/b")]
    [InlineData("/a/./b/../c", "/a/c")]
    [InlineData("/a/%2e%2e/b", "/b")]
    [InlineData("/a%2Fb", "/a%2Fb")]
    [InlineData("/caf%C3%A9?q", "/café")]
    [InlineData("/a%C3", "/a%C3")]
    [InlineData("http://h/x/y?z", "/x/y")]
    public void ListenerPath_DecodesAsAListener(string rawTarget, string expected)
    {
        Assert.Equal(expected, RequestPathTarget.ListenerPath(rawTarget));
    }

    [Fact]
    public void CompactToken_JoinsAJsonHeaderAndClaims()
    {
        var token = FuzzInput.CompactToken("{\"alg\":\"ES256\"}\n{\"iss\":\"x\"}"u8);

        Assert.Equal("eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln", token);
        Assert.Equal("a.b.c", FuzzInput.CompactToken("a.b.c"u8));
    }
}
