using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;
using ZtGateway.Policy.Engine;

namespace ZtGateway.Sources.Identity.Sessions;

/// <summary>
/// Seals and opens browser sessions with ASP.NET Core Data Protection (authenticated encryption): the purpose names the
/// segment, so a session sealed for one segment does not open at another, and a changed byte does not open at all.
/// Every replica that shares the key ring (the state folder, or Redis with <c>sharedState</c>) opens every session.
/// </summary>
internal sealed class SessionProtector
{
    /// <summary>The Data Protection purpose of sessions; the segment's name is the sub-purpose.</summary>
    public const string Purpose = "ZtGateway.BrowserSession.v1";

    /// <summary>Longest sealed session read (a cookie value); anything longer is refused unread.</summary>
    public const int MaxSealedLength = 3800;

    private readonly IDataProtector _protector;
    private readonly string _segment;

    public SessionProtector(IDataProtectionProvider provider, string segment)
    {
        ArgumentNullException.ThrowIfNull(provider);
        ArgumentException.ThrowIfNullOrEmpty(segment);
        _segment = segment;
        _protector = provider.CreateProtector(Purpose, segment);
    }

    /// <summary>Seals <paramref name="session"/> into a cookie-safe string (base64url).</summary>
    public string Seal(BrowserSession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        if (!string.Equals(session.Segment, _segment, StringComparison.Ordinal))
        {
            throw new ArgumentException("the session belongs to segment " + session.Segment, nameof(session));
        }

        return Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Encode(_protector.Protect(session.Serialize()));
    }

    /// <summary>
    /// Opens a sealed session and judges it at <paramref name="now"/>, as a token verdict: valid with the principal,
    /// expired, or invalid (tampered, sealed for another segment or with a key this deployment does not hold). Never throws.
    /// </summary>
    public SessionRead Open(string? sealedSession, DateTimeOffset now)
    {
        if (string.IsNullOrEmpty(sealedSession))
        {
            return SessionRead.Invalid("empty session cookie");
        }

        if (sealedSession.Length > MaxSealedLength)
        {
            return SessionRead.Invalid("session cookie too long");
        }

        byte[] plain;
        try
        {
            plain = _protector.Unprotect(Microsoft.IdentityModel.Tokens.Base64UrlEncoder.DecodeBytes(sealedSession));
        }
        catch (Exception ex) when (ex is CryptographicException or FormatException or ArgumentException)
        {
            return SessionRead.Invalid("session cookie does not open: " + ex.GetType().Name);
        }
        catch (Exception ex)
        {
            // The key ring could not be read (its store is unreachable): nothing is known about the cookie; refused.
            return new SessionRead(new TokenValidationOutcome(TokenStatus.Invalid, null, null, "session keys unavailable: " + ex.GetType().Name, null,
                Transient: true), null);
        }

        var session = BrowserSession.Deserialize(plain);
        if (session is null || !string.Equals(session.Segment, _segment, StringComparison.Ordinal))
        {
            return SessionRead.Invalid("session cookie holds no session of this segment");
        }

        if (session.Expires <= now)
        {
            return new SessionRead(new TokenValidationOutcome(TokenStatus.Expired, null, session.IssuerName, "session ended", session.Expires), session);
        }

        return new SessionRead(new TokenValidationOutcome(TokenStatus.Valid, session.Principal, session.IssuerName, "ok (session)", session.Expires), session);
    }
}

/// <summary>A session cookie judged as a credential: the verdict the engine sees, and the session when it opened.</summary>
internal sealed record SessionRead(TokenValidationOutcome Outcome, BrowserSession? Session)
{
    public static SessionRead Invalid(string detail) => new(new TokenValidationOutcome(TokenStatus.Invalid, null, null, detail, null), null);
}
