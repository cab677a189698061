namespace ZtGateway.Upstream.Validation;

/// <summary>Why an assertion was refused; logged as a stable code, never sent to the caller.</summary>
internal enum AssertionFailure
{
    /// <summary>Not a compact signed JWT, or more than one header value.</summary>
    Malformed,

    /// <summary>Signed with something other than ES256, or not signed at all.</summary>
    AlgorithmNotAllowed,

    /// <summary>No gateway key verifies the signature.</summary>
    SignatureInvalid,

    /// <summary>The gateway's key set could not be obtained.</summary>
    KeysUnavailable,

    /// <summary><c>iss</c> is not the configured gateway issuer.</summary>
    IssuerInvalid,

    /// <summary><c>aud</c> is not this service.</summary>
    AudienceInvalid,

    /// <summary>A required claim (<c>jti</c>, <c>iat</c>, <c>exp</c>) is missing or not of the right type.</summary>
    ClaimMissing,

    /// <summary><c>exp</c> lies in the past beyond the clock skew.</summary>
    Expired,

    /// <summary><c>iat</c> or <c>nbf</c> lies in the future beyond the clock skew.</summary>
    NotYetValid,

    /// <summary><c>exp - iat</c> exceeds the maximum lifetime, or is not positive.</summary>
    LifetimeTooLong,

    /// <summary>The token handler refused it for another reason.</summary>
    Invalid,
}

/// <summary>Maps failures to the kebab-case codes used in logs.</summary>
internal static class AssertionFailureCodes
{
    public static string ToCode(this AssertionFailure failure) => failure switch
    {
        AssertionFailure.Malformed => "assertion-malformed",
        AssertionFailure.AlgorithmNotAllowed => "assertion-algorithm-not-allowed",
        AssertionFailure.SignatureInvalid => "assertion-signature-invalid",
        AssertionFailure.KeysUnavailable => "gateway-keys-unavailable",
        AssertionFailure.IssuerInvalid => "assertion-issuer-invalid",
        AssertionFailure.AudienceInvalid => "assertion-audience-invalid",
        AssertionFailure.ClaimMissing => "assertion-claim-missing",
        AssertionFailure.Expired => "assertion-expired",
        AssertionFailure.NotYetValid => "assertion-not-yet-valid",
        AssertionFailure.LifetimeTooLong => "assertion-lifetime-too-long",
        _ => "assertion-invalid",
    };
}
