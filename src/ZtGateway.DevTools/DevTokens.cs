using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace ZtGateway.DevTools;

/// <summary>Mints development tokens for <c>ztgw dev token</c>, signed with a key from <see cref="DevKeys"/>.</summary>
internal static class DevTokens
{
    private const string SpiffeScheme = "spiffe://";

    /// <summary>Creates a signed JWT for <paramref name="request"/>, issued now by <paramref name="time"/>.</summary>
    /// <param name="request">Claims to include.</param>
    /// <param name="credentials">The signing key (its <c>kid</c> goes into the header).</param>
    /// <param name="time">The clock for <c>iat</c>, <c>nbf</c>, <c>exp</c> and <c>auth_time</c>.</param>
    /// <returns>The compact JWS.</returns>
    public static string Mint(DevTokenRequest request, SigningCredentials credentials, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(credentials);
        ArgumentNullException.ThrowIfNull(time);
        if (request.Lifetime <= TimeSpan.Zero)
        {
            throw new ArgumentException("Lifetime must be positive.", nameof(request));
        }

        // JWT times are whole seconds; truncating keeps iat, nbf and auth_time consistent with each other.
        var now = DateTimeOffset.FromUnixTimeSeconds(time.GetUtcNow().ToUnixTimeSeconds());
        var claims = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            ["jti"] = Guid.NewGuid().ToString("N"),
        };

        var isWorkload = !string.IsNullOrWhiteSpace(request.Workload);
        if (isWorkload)
        {
            var workload = request.Workload!;
            claims["sub"] = workload;
            if (!workload.StartsWith(SpiffeScheme, StringComparison.Ordinal))
            {
                claims["azp"] = workload;
            }
        }
        else
        {
            claims["sub"] = request.Subject;
            if (request.Amr.Count > 0)
            {
                claims["amr"] = request.Amr.ToArray();
            }

            if (request.AuthAge is { } age)
            {
                claims["auth_time"] = (now - age).ToUnixTimeSeconds();
            }
        }

        if (request.Groups.Count > 0)
        {
            claims["groups"] = request.Groups.ToArray();
        }

        if (request.Roles.Count > 0)
        {
            claims["roles"] = request.Roles.ToArray();
        }

        if (!string.IsNullOrEmpty(request.Acr))
        {
            claims["acr"] = request.Acr;
        }

        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = request.Issuer,
            Audience = request.Audience,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = (now + request.Lifetime).UtcDateTime,
            Claims = claims,
            SigningCredentials = credentials,
        };

        var handler = new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false };
        return handler.CreateToken(descriptor);
    }
}
