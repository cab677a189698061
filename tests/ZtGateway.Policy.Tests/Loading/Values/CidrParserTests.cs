using System.Net;
using ZtGateway.Policy.Loading.Values;

namespace ZtGateway.Policy.Tests.Loading.Values;

public sealed class CidrParserTests
{
    [Theory]
    [InlineData("10.0.0.0/8", "10.0.0.0/8")]
    [InlineData("192.168.1.10", "192.168.1.10/32")]
    [InlineData("0.0.0.0/0", "0.0.0.0/0")]
    [InlineData("fd00::/8", "fd00::/8")]
    [InlineData("::1", "::1/128")]
    public void Parses_Network(string text, string expected)
    {
        Assert.True(CidrParser.TryParse(text, out var network, out var detail));
        Assert.Null(detail);
        Assert.Equal(IPNetwork.Parse(expected), network);
    }

    [Theory]
    [InlineData("10.0.0.0/33")]
    [InlineData("10.0.0.0/")]
    [InlineData("10/8")]
    [InlineData("10.1/16")]
    [InlineData("10.0.0.256/32")]
    [InlineData("hr-network")]
    [InlineData(" 10.0.0.0/8")]
    [InlineData("fe80::1%2/64")]
    [InlineData("fd00::/129")]
    public void Rejects_Malformed(string text)
    {
        Assert.False(CidrParser.TryParse(text, out _, out var detail));
        Assert.Null(detail);
    }

    [Theory]
    [InlineData("10.0.0.1/8", "host bits are set (use 10.0.0.0/8)")]
    [InlineData("10.20.30.0/16", "host bits are set (use 10.20.0.0/16)")]
    [InlineData("fd00::1/64", "host bits are set (use fd00::/64)")]
    public void Rejects_HostBits_AndSaysSo(string text, string expected)
    {
        Assert.False(CidrParser.TryParse(text, out _, out var detail));
        Assert.Equal(expected, detail);
    }
}
