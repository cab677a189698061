namespace ZtGateway.Sources.Identity;

/// <summary>Event ids of identity log messages, kept in one range so operators can filter on them.</summary>
internal static class IdentityEventIds
{
    /// <summary>A JWKS file could not be used.</summary>
    public const int JwksUnreadable = 1100;

    /// <summary>Issuer metadata could not be fetched.</summary>
    public const int MetadataUnavailable = 1101;

    /// <summary>Signing keys were refreshed after an unknown <c>kid</c>.</summary>
    public const int SigningKeysRefreshed = 1102;

    /// <summary>An issuer entry cannot be used as configured.</summary>
    public const int IssuerMisconfigured = 1103;

    /// <summary>A token was refused.</summary>
    public const int TokenRefused = 1104;

    /// <summary>Two issuers claim the same <c>iss</c> value.</summary>
    public const int DuplicateIssuer = 1105;
}
