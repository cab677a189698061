using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ZtGateway.Upstream.Authentication;
using ZtGateway.Upstream.Keys;
using ZtGateway.Upstream.Validation;

namespace ZtGateway.Upstream;

/// <summary>Registers verification of the gateway assertion in an ASP.NET Core service.</summary>
public static class ZtGatewayAssertionExtensions
{
    /// <summary>The authentication scheme name, also sent in <c>WWW-Authenticate</c> on a 401.</summary>
    public const string SchemeName = "ZtGatewayAssertion";

    /// <summary>
    /// Adds the <see cref="SchemeName"/> authentication scheme and makes it the default authenticate and
    /// challenge scheme, and sets the default and fallback authorization policies to require a caller
    /// authenticated by it. Every endpoint then requires a valid assertion unless it allows anonymous
    /// access (<c>[AllowAnonymous]</c> or <c>AllowAnonymous()</c>).
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets <see cref="ZtGatewayAssertionOptions.Issuer"/>,
    /// <see cref="ZtGatewayAssertionOptions.Audience"/> and a key source; validated at host start.</param>
    /// <returns>The authentication builder, to add further schemes.</returns>
    public static AuthenticationBuilder AddZtGatewayAssertion(this IServiceCollection services, Action<ZtGatewayAssertionOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);

        services.AddOptions<ZtGatewayAssertionOptions>().Configure(configure).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ZtGatewayAssertionOptions>, ZtGatewayAssertionOptionsValidator>());
        services.TryAddSingleton<IGatewayKeySource>(CreateKeySource);
        services.TryAddSingleton<AssertionValidator>();

        var requireAssertion = new AuthorizationPolicyBuilder(SchemeName).RequireAuthenticatedUser().Build();
        services.AddAuthorizationBuilder()
            .SetDefaultPolicy(requireAssertion)
            .SetFallbackPolicy(requireAssertion);

        return services
            .AddAuthentication(options =>
            {
                options.DefaultScheme = SchemeName;
                options.DefaultAuthenticateScheme = SchemeName;
                options.DefaultChallengeScheme = SchemeName;
            })
            .AddScheme<ZtGatewayAssertionSchemeOptions, ZtGatewayAssertionHandler>(SchemeName, displayName: null, configureOptions: null);
    }

    private static IGatewayKeySource CreateKeySource(IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<ZtGatewayAssertionOptions>>().Value;
        if (options.SigningKeys.Count > 0)
        {
            return new StaticGatewayKeySource(options.SigningKeys.ToArray());
        }

        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger<JwksGatewayKeySource>();
        return new JwksGatewayKeySource(options, logger);
    }
}
