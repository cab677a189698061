using System.Net;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using ZtGateway.DevTools;

namespace ZtGateway.IntegrationTests.Dev;

/// <summary>
/// ASP.NET Core's own OpenID Connect handler, the one browser sign-in is built on, signs in at the development
/// provider and out again: discovery, PKCE, nonce, the code exchange and RP-initiated logout as that client does them.
/// </summary>
public sealed class DevSignInInteropTests : IAsyncLifetime
{
    private readonly string _keyDirectory = Path.Combine(Path.GetTempPath(), "ztgw-devsignin-op-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly CookieContainer _cookies = new();
    private DevIdentityProvider _idp = null!;
    private WebApplication _app = null!;
    private HttpClient _browser = null!;
    private string _appUrl = null!;

    public async Task InitializeAsync()
    {
        _idp = await DevIdentityProvider.StartAsync(new DevIdentityProviderOptions
        {
            Listen = "http://127.0.0.1:0",
            KeyFile = Path.Combine(_keyDirectory, "dev-idp.key.pem"),
        }, NullLoggerFactory.Instance, CancellationToken.None);

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddAuthentication(o =>
            {
                o.DefaultScheme = CookieAuthenticationDefaults.AuthenticationScheme;
                o.DefaultChallengeScheme = OpenIdConnectDefaults.AuthenticationScheme;
            })
            .AddCookie(o => o.Cookie.Name = "app_session")
            .AddOpenIdConnect(o =>
            {
                o.Authority = _idp.Authority;
                o.RequireHttpsMetadata = false;
                o.ClientId = DevSignInClient.ClientId;
                o.ClientSecret = DevSignInClient.Secret;
                o.ResponseType = OpenIdConnectResponseType.Code;
                o.ResponseMode = OpenIdConnectResponseMode.Query;
                o.UsePkce = true;
                o.CallbackPath = DevWebClient.CallbackPath;
                o.SignedOutCallbackPath = "/.ztgw/signed-out";
                o.SaveTokens = true;
                o.MapInboundClaims = false;
                o.Prompt = OpenIdConnectPrompt.Login;
                o.CorrelationCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                o.CorrelationCookie.SameSite = SameSiteMode.Lax;
                o.NonceCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                o.NonceCookie.SameSite = SameSiteMode.Lax;
            });
        builder.Services.AddAuthorization();
        _app = builder.Build();
        _app.UseAuthentication();
        _app.UseAuthorization();
        _app.MapGet("/me", (HttpContext context) => string.Join(' ', context.User.FindAll("amr").Select(c => c.Value).Prepend(context.User.FindFirst("sub")!.Value)))
            .RequireAuthorization();
        _app.MapGet("/signout", () => Results.SignOut(authenticationSchemes: [CookieAuthenticationDefaults.AuthenticationScheme, OpenIdConnectDefaults.AuthenticationScheme]));
        await _app.StartAsync();
        _appUrl = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');
        _browser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = true, CookieContainer = _cookies });
    }

    public async Task DisposeAsync()
    {
        _browser.Dispose();
        await _app.DisposeAsync();
        await _idp.DisposeAsync();
        Directory.Delete(_keyDirectory, recursive: true);
    }

    [Theory]
    [InlineData(true, "alice pwd otp mfa")]
    [InlineData(false, "alice pwd")]
    public async Task TheOpenIdConnectHandler_SignsIn_AndOut(bool mfa, string expected)
    {
        using var challenge = await _browser.GetAsync(_appUrl + "/me");
        Assert.Equal(HttpStatusCode.Redirect, challenge.StatusCode);
        var authorize = challenge.Headers.Location!;
        Assert.StartsWith(_idp.Authority + "/authorize?", authorize.ToString(), StringComparison.Ordinal);

        using var form = await _browser.GetAsync(authorize);
        Assert.Equal(HttpStatusCode.OK, form.StatusCode);
        using var signIn = new DevSignInClient(_idp.Authority, new Uri(_appUrl).Port);
        using var callback = await SubmitAsync(signIn, form, mfa);
        Assert.StartsWith(_appUrl + DevWebClient.CallbackPath + "?", callback.Headers.Location!.ToString(), StringComparison.Ordinal);

        using var signedIn = await _browser.GetAsync(callback.Headers.Location);
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        Assert.Equal(expected, await _browser.GetStringAsync(_appUrl + "/me"));

        using var signOut = await _browser.GetAsync(_appUrl + "/signout");
        var logout = signOut.Headers.Location!;
        Assert.StartsWith(_idp.Authority + "/logout?", logout.ToString(), StringComparison.Ordinal);
        Assert.Contains("id_token_hint=", logout.Query, StringComparison.Ordinal);
        using var back = await _browser.GetAsync(logout);
        Assert.StartsWith(_appUrl + "/.ztgw/signed-out?state=", back.Headers.Location!.ToString(), StringComparison.Ordinal);
        using var done = await _browser.GetAsync(back.Headers.Location);
        Assert.Equal(HttpStatusCode.Redirect, done.StatusCode);

        using var again = await _browser.GetAsync(_appUrl + "/me");
        Assert.Equal(HttpStatusCode.Redirect, again.StatusCode);
        Assert.StartsWith(_idp.Authority + "/authorize?", again.Headers.Location!.ToString(), StringComparison.Ordinal);
    }

    // The login form is posted by this browser (its cookies), with the hidden fields the form carries.
    private async Task<HttpResponseMessage> SubmitAsync(DevSignInClient signIn, HttpResponseMessage form, bool mfa)
    {
        var fields = await signIn.FormFieldsAsync(form, "alice", "dev", mfa);
        return await _browser.PostAsync(_idp.Authority + "/authorize", new FormUrlEncodedContent(fields));
    }
}
