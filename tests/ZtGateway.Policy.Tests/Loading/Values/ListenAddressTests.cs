using ZtGateway.Policy.Loading.Values;

namespace ZtGateway.Policy.Tests.Loading.Values;

public sealed class ListenAddressTests
{
    [Theory]
    [InlineData("http://0.0.0.0:8082", 8082)]
    [InlineData("https://127.0.0.1:443/", 443)]
    [InlineData("http://[::]:8080", 8080)]
    [InlineData("http://*:80", 80)]
    [InlineData("http://+:80", 80)]
    [InlineData("http://localhost:0", 0)]
    [InlineData("HTTP://gw.example:9000", 9000)]
    public void Parses_Listener(string text, int port)
    {
        Assert.True(ListenAddress.TryParse(text, out var address, out var error), error);
        Assert.Equal(port, address!.Port);
        Assert.Equal(text, address.Text);
    }

    [Theory]
    [InlineData("http://0.0.0.0", "must give an explicit port")]
    [InlineData("http://[::1]", "must give an explicit port")]
    [InlineData("tcp://0.0.0.0:80", "must be an absolute http or https URL")]
    [InlineData("0.0.0.0:80", "must be an absolute http or https URL")]
    [InlineData("http://0.0.0.0:80/hr", "must not have a path, query or user info")]
    [InlineData("http://0.0.0.0:70000", "has an invalid port '70000'")]
    [InlineData("http://0.0.0.0:", "has an invalid port ''")]
    [InlineData("http://:80", "has an invalid host")]
    [InlineData("http://[zz]:80", "has an invalid IPv6 host '[zz]'")]
    public void Rejects_Listener(string text, string expected)
    {
        Assert.False(ListenAddress.TryParse(text, out _, out var error));
        Assert.Equal(expected, error);
    }

    [Theory]
    [InlineData("http://127.0.0.1:8080", "http://127.0.0.1:8080", true)]
    [InlineData("http://127.0.0.1:8080", "https://127.0.0.1:8080", true)]
    [InlineData("http://0.0.0.0:8080", "http://10.0.0.5:8080", true)]
    [InlineData("http://10.0.0.5:8080", "http://[::]:8080", true)]
    [InlineData("http://*:8080", "http://127.0.0.1:8080", true)]
    [InlineData("http://+:8080", "http://127.0.0.1:8080", true)]
    [InlineData("http://localhost:8080", "http://127.0.0.1:8080", true)]
    [InlineData("http://localhost:8080", "http://[::1]:8080", true)]
    [InlineData("http://gw.example:8080", "http://127.0.0.1:8080", true)]
    [InlineData("http://127.0.0.1:8080", "http://127.0.0.2:8080", false)]
    [InlineData("http://127.0.0.1:8080", "http://127.0.0.1:8081", false)]
    [InlineData("http://0.0.0.0:8080", "http://0.0.0.0:8081", false)]
    [InlineData("http://0.0.0.0:0", "http://0.0.0.0:0", false)]
    [InlineData("http://127.0.0.1:0", "http://127.0.0.1:0", false)]
    public void Overlaps_WhenSamePortAndHostOrWildcard(string first, string second, bool expected)
    {
        Assert.True(ListenAddress.TryParse(first, out var a, out _));
        Assert.True(ListenAddress.TryParse(second, out var b, out _));
        Assert.Equal(expected, a!.Overlaps(b!));
        Assert.Equal(expected, b!.Overlaps(a));
    }
}
