using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using ZtGateway.Upstream.Keys;

namespace ZtGateway.Upstream.Validation;

/// <summary>
/// Verifies one gateway assertion: ES256 signature by a gateway key, issuer, audience, a lifetime of at
/// most five minutes that holds now, and the claims every assertion carries (<c>jti</c>, <c>iat</c>, <c>exp</c>).
/// </summary>
internal sealed class AssertionValidator
{
    private static readonly JsonWebTokenHandler TokenHandler = new() { MapInboundClaims = false };

    private readonly ZtGatewayAssertionOptions _options;
    private readonly IGatewayKeySource _keys;
    private readonly TokenValidationParameters _parameters;

    public AssertionValidator(IOptions<ZtGatewayAssertionOptions> options, IGatewayKeySource keys)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(keys);
        _options = options.Value;
        _keys = keys;
        _parameters = new TokenValidationParameters
        {
            ValidIssuer = _options.Issuer,
            ValidAudience = _options.Audience,
            ValidAlgorithms = [AssertionLimits.Algorithm],
            RequireSignedTokens = true,
            // Lifetime is checked below against the configured TimeProvider, together with the
            // assertion-specific bounds the handler does not know about.
            ValidateLifetime = false,
            RequireExpirationTime = false,
            ClockSkew = _options.ClockSkew,
            AuthenticationType = ZtGatewayAssertionExtensions.SchemeName,
            NameClaimType = ZtGatewayClaimTypes.Subject,
            RoleClaimType = "roles",
        };
    }

    /// <summary>The request header that carries the assertion.</summary>
    public string Header => _options.Header;

    public async ValueTask<AssertionValidationResult> ValidateAsync(string assertion, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(assertion);
        if (assertion.Length > AssertionLimits.MaxAssertionLength || !TokenHandler.CanReadToken(assertion))
        {
            return AssertionValidationResult.Fail(AssertionFailure.Malformed, "not a compact JWT");
        }

        JsonWebToken token;
        try
        {
            token = TokenHandler.ReadJsonWebToken(assertion);
        }
        catch (Exception ex) when (ex is ArgumentException or SecurityTokenMalformedException)
        {
            return AssertionValidationResult.Fail(AssertionFailure.Malformed, "unreadable JWT");
        }

        if (token.IsEncrypted)
        {
            return AssertionValidationResult.Fail(AssertionFailure.Malformed, "encrypted tokens are not assertions");
        }

        // Checked before any key is touched so that none/HS* never reach signature validation.
        if (!string.Equals(token.Alg, AssertionLimits.Algorithm, StringComparison.Ordinal))
        {
            return AssertionValidationResult.Fail(AssertionFailure.AlgorithmNotAllowed, "alg is not ES256");
        }

        var keys = await _keys.GetKeysAsync(cancellationToken).ConfigureAwait(false);
        if (!string.IsNullOrEmpty(token.Kid) && !keys.Any(key => string.Equals(key.KeyId, token.Kid, StringComparison.Ordinal)))
        {
            // The gateway may have rotated its key since the set was fetched.
            keys = await _keys.RefreshForUnknownKeyAsync(token.Kid, cancellationToken).ConfigureAwait(false);
        }

        if (keys.Count == 0)
        {
            return AssertionValidationResult.Fail(AssertionFailure.KeysUnavailable, "no gateway keys are available");
        }

        var parameters = _parameters.Clone();
        parameters.IssuerSigningKeys = keys;
        var result = await TokenHandler.ValidateTokenAsync(token, parameters).ConfigureAwait(false);
        if (!result.IsValid)
        {
            return AssertionValidationResult.Fail(Classify(result.Exception), result.Exception?.GetType().Name ?? "rejected");
        }

        return CheckAssertionClaims(token) ?? AssertionValidationResult.Success(result.ClaimsIdentity);
    }

    private AssertionValidationResult? CheckAssertionClaims(JsonWebToken token)
    {
        if (string.IsNullOrEmpty(token.Id))
        {
            return AssertionValidationResult.Fail(AssertionFailure.ClaimMissing, "jti is missing");
        }

        if (!TryGetTime(token, JwtRegisteredClaimNames.Iat, out var issuedAt))
        {
            return AssertionValidationResult.Fail(AssertionFailure.ClaimMissing, "iat is missing");
        }

        if (!TryGetTime(token, JwtRegisteredClaimNames.Exp, out var expires))
        {
            return AssertionValidationResult.Fail(AssertionFailure.ClaimMissing, "exp is missing");
        }

        var lifetime = expires - issuedAt;
        if (lifetime <= TimeSpan.Zero || lifetime > AssertionLimits.MaxLifetime)
        {
            return AssertionValidationResult.Fail(AssertionFailure.LifetimeTooLong, "exp - iat is not within (0, 5m]");
        }

        var now = _options.TimeProvider.GetUtcNow();
        var skew = _options.ClockSkew;
        if (now > expires + skew)
        {
            return AssertionValidationResult.Fail(AssertionFailure.Expired, "exp has passed");
        }

        if (issuedAt > now + skew)
        {
            return AssertionValidationResult.Fail(AssertionFailure.NotYetValid, "iat is in the future");
        }

        if (token.TryGetPayloadValue<object>(JwtRegisteredClaimNames.Nbf, out _))
        {
            if (!TryGetTime(token, JwtRegisteredClaimNames.Nbf, out var notBefore))
            {
                return AssertionValidationResult.Fail(AssertionFailure.ClaimMissing, "nbf is not a number");
            }

            if (notBefore > now + skew)
            {
                return AssertionValidationResult.Fail(AssertionFailure.NotYetValid, "nbf is in the future");
            }
        }

        return null;
    }

    private static bool TryGetTime(JsonWebToken token, string claim, out DateTimeOffset value)
    {
        if (token.TryGetPayloadValue<long>(claim, out var seconds)
            && seconds >= 0
            && seconds <= DateTimeOffset.MaxValue.ToUnixTimeSeconds())
        {
            value = DateTimeOffset.FromUnixTimeSeconds(seconds);
            return true;
        }

        value = default;
        return false;
    }

    private static AssertionFailure Classify(Exception? exception) => exception switch
    {
        SecurityTokenInvalidIssuerException => AssertionFailure.IssuerInvalid,
        SecurityTokenInvalidAudienceException => AssertionFailure.AudienceInvalid,
        SecurityTokenInvalidAlgorithmException => AssertionFailure.AlgorithmNotAllowed,
        SecurityTokenSignatureKeyNotFoundException => AssertionFailure.SignatureInvalid,
        SecurityTokenInvalidSignatureException => AssertionFailure.SignatureInvalid,
        SecurityTokenMalformedException => AssertionFailure.Malformed,
        _ => AssertionFailure.Invalid,
    };
}
