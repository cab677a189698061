namespace ZtGateway.Upstream.Validation;

/// <summary>Fixed bounds of assertion verification; they are design limits, not settings.</summary>
internal static class AssertionLimits
{
    /// <summary>The only signature algorithm the gateway uses; anything else is refused.</summary>
    public const string Algorithm = "ES256";

    /// <summary>An assertion is minted per request, so a long-lived one is a forgery or a misconfiguration.</summary>
    public static readonly TimeSpan MaxLifetime = TimeSpan.FromMinutes(5);

    /// <summary>Bound on parsing work for a header anyone can send.</summary>
    public const int MaxAssertionLength = 16 * 1024;
}
