using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using ZtGateway.Sources.Signals;

namespace ZtGateway.DevTools;

/// <summary>What a development Security Event Token says.</summary>
internal sealed record DevSignalRequest
{
    /// <summary><c>session-revoked</c>, <c>credential-change</c>, <c>assurance-level-change</c> or <c>device-compliance-change</c>.</summary>
    public required string Event { get; init; }

    /// <summary>For user events: the user's <c>sub</c>.</summary>
    public string? Subject { get; init; }

    /// <summary>For user events: the <c>iss</c> of the user's tokens.</summary>
    public string? SubjectIssuer { get; init; }

    /// <summary>For device events: the device id.</summary>
    public string? Device { get; init; }

    /// <summary>For device events: <c>compliant</c> or <c>not-compliant</c>.</summary>
    public string? Status { get; init; }

    /// <summary>The transmitter's issuer.</summary>
    public required string Issuer { get; init; }

    /// <summary>The gateway's audience for that transmitter.</summary>
    public required string Audience { get; init; }
}

/// <summary>Mints CAEP Security Event Tokens the way an IdP or EDR transmitter would, with a development key.</summary>
internal static class DevSignals
{
    /// <summary>The event names <c>ztgw dev signal --event</c> accepts.</summary>
    public static readonly string[] Events = ["session-revoked", "credential-change", "assurance-level-change", "device-compliance-change"];

    public static string Mint(DevSignalRequest request, SigningCredentials credentials, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(request);
        var now = time.GetUtcNow();
        Dictionary<string, object> subject;
        var payload = new Dictionary<string, object> { ["event_timestamp"] = now.ToUnixTimeSeconds() };
        if (request.Event == "device-compliance-change")
        {
            subject = new Dictionary<string, object> { ["format"] = "opaque", ["id"] = request.Device! };
            payload["current_status"] = request.Status!;
            payload["previous_status"] = request.Status == "compliant" ? "not-compliant" : "compliant";
        }
        else
        {
            subject = new Dictionary<string, object> { ["format"] = "iss_sub", ["iss"] = request.SubjectIssuer!, ["sub"] = request.Subject! };
            if (request.Event == "assurance-level-change")
            {
                payload["namespace"] = "RFC8176";
                payload["current_level"] = "pwd";
                payload["previous_level"] = "mfa";
                payload["change_direction"] = "decrease";
            }
            else if (request.Event == "credential-change")
            {
                payload["credential_type"] = "password";
                payload["change_type"] = "update";
            }
        }

        payload["subject"] = subject;
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            TokenType = "secevent+jwt",
            Issuer = request.Issuer,
            Audience = request.Audience,
            IssuedAt = now.UtcDateTime,
            Claims = new Dictionary<string, object>
            {
                ["jti"] = Guid.NewGuid().ToString("N"),
                ["events"] = new Dictionary<string, object> { [CaepEventTypes.Prefix + request.Event] = payload },
            },
            SigningCredentials = credentials,
        });
    }
}
