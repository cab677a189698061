using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ZtGateway.Upstream.Tests.Infrastructure;

namespace ZtGateway.Upstream.Tests.Validation;

public sealed class ZtGatewayAssertionOptionsValidatorTests
{
    [Fact]
    public void ReportsEveryProblemAtOnce()
    {
        var error = Assert.Throws<OptionsValidationException>(() => Resolve(_ => { }));

        Assert.Equal(3, error.Failures.Count());
        Assert.Contains(error.Failures, failure => failure.Contains("Issuer", StringComparison.Ordinal));
        Assert.Contains(error.Failures, failure => failure.Contains("Audience", StringComparison.Ordinal));
        Assert.Contains(error.Failures, failure => failure.Contains("JwksUri", StringComparison.Ordinal));
    }

    [Fact]
    public void Rejects_BothJwksAndStaticKeys()
    {
        using var key = new GatewayKey("gw-1");

        var error = Assert.Throws<OptionsValidationException>(() => Resolve(options =>
        {
            Valid(options);
            options.SigningKeys.Add(key.PublicSecurityKey());
        }));

        Assert.Contains("not both", Assert.Single(error.Failures), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ftp://gateway.example/jwks.json")]
    [InlineData("/.well-known/ztgw/jwks.json")]
    public void Rejects_JwksUriThatIsNotAnAbsoluteHttpUrl(string uri)
    {
        var error = Assert.Throws<OptionsValidationException>(() => Resolve(options =>
        {
            Valid(options);
            options.JwksUri = new Uri(uri, UriKind.RelativeOrAbsolute);
        }));

        Assert.Contains("JwksUri", Assert.Single(error.Failures), StringComparison.Ordinal);
    }

    [Fact]
    public void Rejects_NegativeSkewAndZeroRefreshInterval()
    {
        var error = Assert.Throws<OptionsValidationException>(() => Resolve(options =>
        {
            Valid(options);
            options.ClockSkew = TimeSpan.FromSeconds(-1);
            options.JwksRefreshInterval = TimeSpan.Zero;
        }));

        Assert.Equal(2, error.Failures.Count());
    }

    [Fact]
    public void Rejects_EmptyHeader()
    {
        var error = Assert.Throws<OptionsValidationException>(() => Resolve(options =>
        {
            Valid(options);
            options.Header = " ";
        }));

        Assert.Contains("Header", Assert.Single(error.Failures), StringComparison.Ordinal);
    }

    [Fact]
    public void Accepts_StaticKeysWithoutJwks()
    {
        using var key = new GatewayKey("gw-1");

        var options = Resolve(options =>
        {
            options.Issuer = AssertionMinter.Issuer;
            options.Audience = AssertionMinter.Service;
            options.SigningKeys.Add(key.PublicSecurityKey());
        });

        Assert.Single(options.SigningKeys);
    }

    [Fact]
    public void Defaults_AreTheDocumentedOnes()
    {
        var options = new ZtGatewayAssertionOptions();

        Assert.Equal("X-ZT-Assertion", options.Header);
        Assert.Equal(TimeSpan.FromSeconds(5), options.ClockSkew);
        Assert.Equal(TimeSpan.FromMinutes(5), options.JwksRefreshInterval);
        Assert.Same(TimeProvider.System, options.TimeProvider);
        Assert.Null(options.JwksUri);
        Assert.Empty(options.SigningKeys);
    }

    private static void Valid(ZtGatewayAssertionOptions options)
    {
        options.Issuer = AssertionMinter.Issuer;
        options.Audience = AssertionMinter.Service;
        options.JwksUri = new Uri("http://127.0.0.1:8082/.well-known/ztgw/jwks.json");
    }

    private static ZtGatewayAssertionOptions Resolve(Action<ZtGatewayAssertionOptions> configure)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddZtGatewayAssertion(configure);
        using var provider = services.BuildServiceProvider();
        return provider.GetRequiredService<IOptions<ZtGatewayAssertionOptions>>().Value;
    }
}
