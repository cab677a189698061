using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Microsoft.IdentityModel.Validators;

namespace ZtGateway.Sources.Identity;

/// <summary>
/// The checks Microsoft.Identity.Web adds for Entra ID tokens, applied to the key that verified a token:
/// the key's announced <c>issuer</c> (Entra publishes one per key) matches the token's, the key belongs to
/// the cloud instance of the metadata (both from Microsoft.IdentityModel.Validators), and the token's
/// <c>tid</c>, when present, is the configured tenant.
/// </summary>
internal static class EntraSigningKeyCheck
{
    private const string TenantIdClaim = "tid";

    /// <summary>A check pinned to <paramref name="tenantId"/>; call it with the metadata the key came from.</summary>
    public static IssuerSigningKeyValidatorUsingConfiguration For(string tenantId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(tenantId);

        // The library installs its checks as a validator delegate; they need the metadata, which the
        // caller supplies because the keys are handed to IdentityModel directly.
        var microsoft = new TokenValidationParameters();
        microsoft.EnableAadSigningKeyIssuerValidation();
        microsoft.EnableEntraIdSigningKeyCloudInstanceValidation();
        var libraryCheck = microsoft.IssuerSigningKeyValidatorUsingConfiguration;

        return (key, token, parameters, configuration) =>
        {
            // iss already pins the tenant; a tid naming another one means the token is not what it claims.
            if (token is JsonWebToken jwt && jwt.TryGetPayloadValue<string>(TenantIdClaim, out var tid)
                && !string.Equals(tid, tenantId, StringComparison.OrdinalIgnoreCase))
            {
                throw new SecurityTokenInvalidIssuerException("tid is not the configured tenant");
            }

            return libraryCheck(key, token, parameters, configuration);
        };
    }
}
