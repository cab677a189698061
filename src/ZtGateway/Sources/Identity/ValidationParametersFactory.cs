using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace ZtGateway.Sources.Identity;

/// <summary>
/// The one place that decides how strictly tokens are checked, shared by every issuer type: signed,
/// asymmetric only, issuer, audience and lifetime always validated, keys chosen by <c>kid</c> only.
/// </summary>
internal static class ValidationParametersFactory
{
    /// <summary>
    /// Accepted <c>alg</c> values. Symmetric algorithms are left out so that an HS256 token keyed with
    /// a published public key (the classic algorithm-confusion attack) can never verify.
    /// </summary>
    public static IReadOnlyList<string> AllowedAlgorithms { get; } =
    [
        SecurityAlgorithms.RsaSha256, SecurityAlgorithms.RsaSha384, SecurityAlgorithms.RsaSha512,
        SecurityAlgorithms.RsaSsaPssSha256, SecurityAlgorithms.RsaSsaPssSha384, SecurityAlgorithms.RsaSsaPssSha512,
        SecurityAlgorithms.EcdsaSha256, SecurityAlgorithms.EcdsaSha384, SecurityAlgorithms.EcdsaSha512,
    ];

    /// <summary>Builds parameters for one issuer.</summary>
    /// <param name="validIssuers">Exact <c>iss</c> values accepted.</param>
    /// <param name="audiences">Accepted <c>aud</c> values; empty means no token is accepted.</param>
    /// <param name="signingKeys">Keys matched by <c>kid</c>.</param>
    /// <param name="clockSkew">Tolerance for <c>exp</c>, <c>nbf</c> and <c>iat</c>.</param>
    /// <param name="timeProvider">The clock lifetimes are checked against.</param>
    public static TokenValidationParameters Create(
        IEnumerable<string> validIssuers,
        IEnumerable<string> audiences,
        IEnumerable<SecurityKey> signingKeys,
        TimeSpan clockSkew,
        TimeProvider timeProvider)
    {
        return new TokenValidationParameters
        {
            ValidateIssuer = true,
            ValidIssuers = [.. validIssuers],
            ValidateAudience = true,
            RequireAudience = true,
            ValidAudiences = [.. audiences],
            ValidateLifetime = true,
            RequireExpirationTime = true,
            ClockSkew = clockSkew,
            LifetimeValidator = CreateLifetimeValidator(timeProvider),
            RequireSignedTokens = true,
            IssuerSigningKeys = [.. signingKeys],
            TryAllIssuerSigningKeys = false,
            ValidAlgorithms = AllowedAlgorithms,
            ValidateTokenReplay = false,
            SaveSigninToken = false,
            LogValidationExceptions = false,
        };
    }

    // IdentityModel keeps its own clock internal, so lifetimes are checked here against the injected one.
    private static LifetimeValidator CreateLifetimeValidator(TimeProvider timeProvider)
    {
        return (notBefore, expires, token, parameters) =>
        {
            var now = timeProvider.GetUtcNow().UtcDateTime;
            var skew = parameters.ClockSkew;
            if (expires is null)
            {
                throw new SecurityTokenNoExpirationException("token has no exp");
            }

            if (notBefore is { } nbf && nbf > expires.Value)
            {
                throw new SecurityTokenInvalidLifetimeException("nbf is after exp");
            }

            if (notBefore is { } start && start > now + skew)
            {
                throw new SecurityTokenNotYetValidException("nbf is in the future") { NotBefore = start };
            }

            // A token "issued" in the future was minted by a clock nobody should trust.
            if (token is JsonWebToken jwt && jwt.IssuedAt != DateTime.MinValue && jwt.IssuedAt > now + skew)
            {
                throw new SecurityTokenNotYetValidException("iat is in the future") { NotBefore = jwt.IssuedAt };
            }

            if (expires.Value < now - skew)
            {
                throw new SecurityTokenExpiredException("token expired") { Expires = expires.Value };
            }

            return true;
        };
    }
}
