using ZtGateway.DevTools;

namespace ZtGateway.Tests.Dev;

/// <summary>Where the development identity provider may send a browser back to with a code.</summary>
public sealed class DevWebClientTests
{
    private static readonly DevWebClient Client = new("ztgw-web", "s", ["http://localhost:3000/signin?from=idp"]);

    [Theory]
    [InlineData("http://127.0.0.1:8081/.ztgw/callback", true)]
    [InlineData("https://127.0.0.1:8443/.ztgw/callback", true)]
    [InlineData("http://127.0.0.2:8081/.ztgw/callback", true)]
    [InlineData("http://localhost:8082/.ztgw/callback", true)]
    [InlineData("http://LOCALHOST/.ztgw/callback", true)]
    [InlineData("http://[::1]:8083/.ztgw/callback", true)]
    [InlineData("http://localhost:3000/signin?from=idp", true)]
    [InlineData("http://localhost:3000/signin?from=other", false)]
    [InlineData("http://127.0.0.1:8081/.ztgw/callback/", false)]
    [InlineData("http://127.0.0.1:8081/.ZTGW/callback", false)]
    [InlineData("http://127.0.0.1:8081/.ztgw/callback?next=/", false)]
    [InlineData("http://127.0.0.1:8081/.ztgw/callback#x", false)]
    [InlineData("http://user@127.0.0.1:8081/.ztgw/callback", false)]
    [InlineData("http://loopback/.ztgw/callback", false)]
    [InlineData("http://localhost.evil.example/.ztgw/callback", false)]
    [InlineData("http://10.0.0.1:8081/.ztgw/callback", false)]
    [InlineData("ftp://127.0.0.1/.ztgw/callback", false)]
    [InlineData("/.ztgw/callback", false)]
    [InlineData("http:/127.0.0.1/.ztgw/callback", false)]
    [InlineData("http://127.0.0.1\\@evil.example/.ztgw/callback", false)]
    [InlineData("http://127.1:8081/.ztgw/callback", true)]
    public void Accepts_OnlyLoopbackCallbacks_AndRegisteredUris(string redirectUri, bool accepted)
        => Assert.Equal(accepted, Client.Accepts(redirectUri));

    [Theory]
    [InlineData("http://127.0.0.1:8081/.ztgw/signed-out", true)]
    [InlineData("http://localhost/", true)]
    [InlineData("http://[::1]/bye", true)]
    [InlineData("https://gateway.example/", false)]
    [InlineData("javascript:alert(1)", false)]
    [InlineData("http://127.0.0.1/#frag", false)]
    public void IsLoopbackUri_IsLiteralLoopbackHttp(string uri, bool loopback)
        => Assert.Equal(loopback, DevWebClient.IsLoopbackUri(uri, out _));
}
