using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace ZtGateway.DevTools;

/// <summary>What a development posture assertion says about a device.</summary>
internal sealed record DevPostureRequest
{
    public required string DeviceId { get; init; }

    public required string Segment { get; init; }

    public bool Compliant { get; init; }

    public bool Managed { get; init; }

    public string Risk { get; init; } = "low";

    /// <summary>The <c>sub</c> of the user the assertion is bound to; null leaves it unbound.</summary>
    public string? User { get; init; }

    public required string Issuer { get; init; }

    public required string Audience { get; init; }

    public TimeSpan Lifetime { get; init; } = TimeSpan.FromMinutes(10);
}

/// <summary>Mints device-posture assertions the way an EDR/MDM bridge would, with a development key.</summary>
internal static class DevPostures
{
    public static string Mint(DevPostureRequest request, SigningCredentials credentials, TimeProvider time)
    {
        var now = time.GetUtcNow();
        var claims = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            ["sub"] = request.DeviceId,
            ["segment"] = request.Segment,
            ["compliant"] = request.Compliant,
            ["managed"] = request.Managed,
            ["risk"] = request.Risk,
        };
        if (request.User is not null)
        {
            claims["user"] = request.User;
        }

        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = request.Issuer,
            Audience = request.Audience,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = (now + request.Lifetime).UtcDateTime,
            Claims = claims,
            SigningCredentials = credentials,
        });
    }
}
