using Microsoft.Extensions.Options;

namespace ZtGateway.Upstream.Validation;

/// <summary>Reports every problem of <see cref="ZtGatewayAssertionOptions"/> at once, so startup fails with the full list.</summary>
internal sealed class ZtGatewayAssertionOptionsValidator : IValidateOptions<ZtGatewayAssertionOptions>
{
    public ValidateOptionsResult Validate(string? name, ZtGatewayAssertionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        const string prefix = nameof(ZtGatewayAssertionOptions) + ".";

        if (string.IsNullOrWhiteSpace(options.Header))
        {
            errors.Add(prefix + nameof(options.Header) + " must name a request header.");
        }

        if (string.IsNullOrWhiteSpace(options.Issuer))
        {
            errors.Add(prefix + nameof(options.Issuer) + " is required: the gateway's assertion issuer.");
        }

        if (string.IsNullOrWhiteSpace(options.Audience))
        {
            errors.Add(prefix + nameof(options.Audience) + " is required: this service's name.");
        }

        var hasStaticKeys = options.SigningKeys.Count > 0;
        if (options.JwksUri is null && !hasStaticKeys)
        {
            errors.Add(prefix + nameof(options.JwksUri) + " is required unless " + nameof(options.SigningKeys) + " holds keys.");
        }
        else if (options.JwksUri is not null && hasStaticKeys)
        {
            errors.Add("Set either " + prefix + nameof(options.JwksUri) + " or " + prefix + nameof(options.SigningKeys) + ", not both.");
        }

        if (options.JwksUri is { } uri && (!uri.IsAbsoluteUri || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp)))
        {
            errors.Add(prefix + nameof(options.JwksUri) + " must be an absolute http or https URL.");
        }

        if (options.SigningKeys.Any(key => key is null))
        {
            errors.Add(prefix + nameof(options.SigningKeys) + " must not contain null.");
        }

        if (options.ClockSkew < TimeSpan.Zero || options.ClockSkew > AssertionLimits.MaxLifetime)
        {
            errors.Add(prefix + nameof(options.ClockSkew) + " must be between 0 and 5 minutes.");
        }

        if (options.JwksRefreshInterval <= TimeSpan.Zero)
        {
            errors.Add(prefix + nameof(options.JwksRefreshInterval) + " must be positive.");
        }

        if (options.TimeProvider is null)
        {
            errors.Add(prefix + nameof(options.TimeProvider) + " must not be null.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
