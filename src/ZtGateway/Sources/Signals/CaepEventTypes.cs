namespace ZtGateway.Sources.Signals;

/// <summary>The OpenID CAEP event types the gateway acts on; any other event in a SET is acknowledged and ignored.</summary>
internal static class CaepEventTypes
{
    public const string Prefix = "https://schemas.openid.net/secevent/caep/event-type/";

    /// <summary>The user's sessions ended: tokens issued before are refused.</summary>
    public const string SessionRevoked = Prefix + "session-revoked";

    /// <summary>A credential of the user changed: tokens issued before are refused.</summary>
    public const string CredentialChange = Prefix + "credential-change";

    /// <summary>The user's assurance level changed: tokens issued before must step up (unless it increased).</summary>
    public const string AssuranceLevelChange = Prefix + "assurance-level-change";

    /// <summary>A device became compliant or not-compliant: a not-compliant device is quarantined until compliant.</summary>
    public const string DeviceComplianceChange = Prefix + "device-compliance-change";
}

/// <summary>RFC 8935 section 2.4 error codes, returned as <c>{"err": ..., "description": ...}</c> with status 400.</summary>
internal static class SetErrors
{
    /// <summary>Not a SET, or an event that does not conform; also expired and replayed SETs.</summary>
    public const string InvalidRequest = "invalid_request";

    /// <summary>Not signed with an acceptable key (unsigned, symmetric, unknown key, bad signature).</summary>
    public const string InvalidKey = "invalid_key";

    /// <summary>The issuer is not a configured transmitter.</summary>
    public const string InvalidIssuer = "invalid_issuer";

    /// <summary>The audience is not the one configured for the transmitter.</summary>
    public const string InvalidAudience = "invalid_audience";
}
