using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Engine;
using ZtGateway.Sources.Identity;
using ZtGateway.Sources.Keys;

namespace ZtGateway.Sources.Device;

/// <summary>What the posture header said, once verified.</summary>
internal sealed record PostureOutcome(DeviceStatus Status, DevicePosture? Device, string Detail)
{
    /// <summary>The verified assertion's <c>exp</c>: from then on a new request with it is refused, so an exchange opened with it ends.</summary>
    public DateTimeOffset? Expires { get; init; }

    /// <summary>
    /// The assertion, when this posture is the one an EDR/MDM bridge pushed for a device certificate's device (not a header):
    /// an exchange opened with it follows the pushes that come after it.
    /// </summary>
    public string? PushedAssertion { get; init; }

    public static readonly PostureOutcome Absent = new(DeviceStatus.Absent, null, "no device assertion");

    public static PostureOutcome Invalid(string detail) => new(DeviceStatus.Invalid, null, detail);
}

/// <summary>
/// Verifies device-posture assertions (docs/design.md section 3): a JWT from a configured posture issuer,
/// audience <c>device.audience</c>, lifetime no longer than <c>device.maxAge</c>, and, when it names a
/// user, bound to the caller's <c>sub</c>. Plain headers are never believed: only a signed assertion
/// produces a device.
/// </summary>
/// <remarks>
/// Verdicts are remembered by digest. A verified assertion is remembered until its <c>exp</c>, with the user it is
/// bound to, and the binding is checked against the caller on every use. A refused assertion is remembered for
/// <see cref="CachingTokenValidator.RefusalLifetime"/>: every reason for such a refusal is about the assertion alone,
/// never about the caller, so a refusal learned with one caller's token holds for any other. Both caches are
/// emptied when a posture issuer's keys change.
/// </remarks>
internal sealed class DevicePostureVerifier : IDisposable
{
    private readonly DeviceSettings _settings;
    private readonly TimeSpan _clockSkew;
    private readonly TimeProvider _time;
    private readonly Dictionary<string, JwksKeySource> _issuers = new(StringComparer.Ordinal);
    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };

    // Verified assertions, keyed by digest; the user binding is re-checked on every hit.
    private readonly VerifiedCache<CachedPosture> _cache = new(capacity: 50_000, maxEntryLifetime: TimeSpan.FromMinutes(15));

    // Refused assertions, keyed by digest, bounded on their own so that junk never pushes verified ones out.
    private readonly VerifiedCache<PostureOutcome> _refused = new(capacity: 10_000, maxEntryLifetime: CachingTokenValidator.RefusalLifetime);

    // Bumped on every key change: a verdict reached with keys that changed meanwhile is not remembered.
    private int _generation;

    public DevicePostureVerifier(DeviceSettings settings, TimeSpan clockSkew, TimeProvider timeProvider,
        HttpMessageHandler? backchannel, ILogger logger)
    {
        _settings = settings;
        _clockSkew = clockSkew;
        _time = timeProvider;
        foreach (var issuer in settings.Issuers)
        {
            var source = issuer.JwksFile is not null
                ? JwksKeySource.FromFile(issuer.JwksFile, timeProvider, logger)
                : JwksKeySource.FromUri("device issuer " + issuer.Issuer, new Uri(issuer.JwksUri!), backchannel, timeProvider, logger);
            source.KeysChanged += Clear;
            _issuers[issuer.Issuer] = source;
        }
    }

    public ValueTask<PostureOutcome> VerifyAsync(string? assertion, Principal? principal, CancellationToken cancellationToken) =>
        VerifyAsync(assertion, principal, recent: null, cancellationToken);

    /// <summary>
    /// Verifies a device assertion; <paramref name="recent"/>, kept by the caller (one per connection), finds the verdict on
    /// the assertion presented last time without hashing it.
    /// </summary>
    public async ValueTask<PostureOutcome> VerifyAsync(string? assertion, Principal? principal, RecentCredential? recent, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(assertion))
        {
            return PostureOutcome.Absent;
        }

        var (verified, refusal) = await VerifyCachedAsync(assertion, recent, cancellationToken);
        return verified is not null ? Bind(verified, principal) : refusal!;
    }

    /// <summary>
    /// Verifies an assertion an EDR/MDM bridge pushes for its device (<c>POST /device/posture</c>): everything
    /// <see cref="VerifyAsync(string?, Principal?, RecentCredential?, CancellationToken)"/> checks but the user binding, which
    /// is checked against the caller each time the pushed assertion is used. Returns the verified posture and the
    /// assertion's <c>iat</c>, or the refusal.
    /// </summary>
    public async ValueTask<(PostureOutcome Outcome, DateTimeOffset IssuedAt)> VerifyPushedAsync(string assertion, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(assertion);
        var (verified, refusal) = await VerifyCachedAsync(assertion, recent: null, cancellationToken);
        return verified is not null ? (verified.Outcome, verified.IssuedAt) : (refusal!, default);
    }

    private async ValueTask<(CachedPosture? Verified, PostureOutcome? Refusal)> VerifyCachedAsync(string assertion, RecentCredential? recent,
        CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        if (recent is not null)
        {
            if (_cache.TryGetRecent(recent, assertion, now, out var again))
            {
                return (again, null);
            }

            if (_refused.TryGetRecent(recent, assertion, now, out var refusedAgain))
            {
                return (null, refusedAgain);
            }
        }

        if (_cache.TryGet(assertion, assertion, now, recent, out var cached))
        {
            return (cached, null);
        }

        if (_refused.TryGet(assertion, assertion, now, recent, out var refused))
        {
            return (null, refused);
        }

        var generation = Volatile.Read(ref _generation);
        var (verified, refusal) = await VerifyUncachedAsync(assertion, now, cancellationToken);
        var current = generation == Volatile.Read(ref _generation);
        if (verified is not null)
        {
            if (current)
            {
                _cache.Set(assertion, verified, verified.Outcome.Device!.DeviceId, now, verified.Expires, assertion, recent);
            }

            return (verified, null);
        }

        if (current)
        {
            _refused.Set(assertion, refusal!, subject: null, now, now + CachingTokenValidator.RefusalLifetime, assertion, recent);
        }

        return (null, refusal);
    }

    /// <summary>
    /// The remembered verdict on <paramref name="assertion"/>, bound to <paramref name="principal"/>, without verifying
    /// anything now; null when none is remembered (then <see cref="VerifyAsync(string?, Principal?, RecentCredential?, CancellationToken)"/>).
    /// </summary>
    public PostureOutcome? Remembered(string assertion, Principal? principal)
    {
        ArgumentException.ThrowIfNullOrEmpty(assertion);
        var now = _time.GetUtcNow();
        if (_cache.TryGet(assertion, assertion, now, null, out var cached))
        {
            return Bind(cached, principal);
        }

        return _refused.TryGet(assertion, assertion, now, null, out var refused) ? refused : null;
    }

    /// <summary>Forgets every remembered verdict (a posture issuer's keys changed).</summary>
    public void Clear()
    {
        Interlocked.Increment(ref _generation);
        _cache.Clear();
        _refused.Clear();
    }

    // The one check that depends on the caller: an assertion bound to a user travels with that user's token only.
    private static PostureOutcome Bind(CachedPosture posture, Principal? principal) =>
        posture.User is not null && !string.Equals(posture.User, principal?.Subject, StringComparison.Ordinal)
            ? PostureOutcome.Invalid("device assertion is bound to another user")
            : posture.Outcome;

    // Everything about the assertion itself; the result is the same whoever presents it.
    private async ValueTask<(CachedPosture? Verified, PostureOutcome? Refusal)> VerifyUncachedAsync(string assertion, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        if (CompactJws.ShapeFailure(assertion) is { } shapeFailure)
        {
            return Refuse("malformed device assertion (" + shapeFailure + ")");
        }

        JsonWebToken token;
        try
        {
            token = new JsonWebToken(assertion);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or SecurityTokenException or System.Text.Json.JsonException)
        {
            // A part that is not base64url (a five-part value is read as a JWE) throws FormatException, not ArgumentException.
            return Refuse("malformed device assertion");
        }

        if (!_issuers.TryGetValue(token.Issuer ?? string.Empty, out var keys))
        {
            return Refuse("device assertion from an unknown issuer");
        }

        var parameters = new TokenValidationParameters
        {
            ValidIssuer = token.Issuer,
            ValidAudience = _settings.Audience,
            IssuerSigningKeys = await keys.GetKeysAsync(token.Kid, cancellationToken),
            ValidAlgorithms = ValidationParametersFactory.AllowedAlgorithms,
            RequireSignedTokens = true,
            RequireExpirationTime = true,
            TryAllIssuerSigningKeys = false,
            ClockSkew = _clockSkew,
            LifetimeValidator = (notBefore, expires, _, _) =>
                expires is { } exp && now <= exp.ToUniversalTime() + _clockSkew
                && (notBefore is not { } nbf || nbf.ToUniversalTime() - _clockSkew <= now),
        };

        TokenValidationResult result;
        try
        {
            result = await _handler.ValidateTokenAsync(token, parameters);
        }
        catch (Exception ex) when (ex is ArgumentException or SecurityTokenException or FormatException)
        {
            return Refuse("device assertion failed validation: " + ex.GetType().Name);
        }

        if (!result.IsValid)
        {
            return Refuse("device assertion failed validation: " + result.Exception?.GetType().Name);
        }

        // A posture assertion is a fresh statement about a device; a long-lived one is a replayable one.
        if (!token.TryGetPayloadValue<long>("iat", out var issuedAt))
        {
            return Refuse("device assertion has no iat");
        }

        if (token.ValidTo - DateTimeOffset.FromUnixTimeSeconds(issuedAt).UtcDateTime > _settings.MaxAge)
        {
            return Refuse("device assertion lives longer than device.maxAge");
        }

        if (DateTimeOffset.FromUnixTimeSeconds(issuedAt) - _clockSkew > now)
        {
            return Refuse("device assertion issued in the future");
        }

        var deviceId = token.Subject;
        if (string.IsNullOrEmpty(deviceId))
        {
            return Refuse("device assertion has no sub");
        }

        if (!TryString(token, "segment", out var segment) || segment.Length == 0)
        {
            return Refuse("device assertion has no segment");
        }

        if (!TryBool(token, "compliant", out var compliant) || !TryBool(token, "managed", out var managed))
        {
            return Refuse("device assertion lacks boolean compliant/managed");
        }

        if (!TryString(token, "risk", out var riskText) || !TryRisk(riskText, out var risk))
        {
            return Refuse("device assertion has no valid risk");
        }

        string? boundUser = null;
        if (token.TryGetClaim("user", out _))
        {
            // Bound to a user: only that user's token may carry it (Bind), so a stolen assertion does not travel.
            if (!TryString(token, "user", out var user))
            {
                return Refuse("device assertion has a user claim that is not a string");
            }

            boundUser = user;
        }

        var expires = new DateTimeOffset(token.ValidTo, TimeSpan.Zero);
        var verified = new PostureOutcome(DeviceStatus.Verified, new DevicePosture
        {
            DeviceId = deviceId,
            Segment = segment,
            Compliant = compliant,
            Managed = managed,
            Risk = risk,
        }, "verified") { Expires = expires };
        return (new CachedPosture(verified, boundUser, expires, DateTimeOffset.FromUnixTimeSeconds(issuedAt)), null);
    }

    private static (CachedPosture? Verified, PostureOutcome? Refusal) Refuse(string detail) => (null, PostureOutcome.Invalid(detail));

    private sealed record CachedPosture(PostureOutcome Outcome, string? User, DateTimeOffset Expires, DateTimeOffset IssuedAt);

    private static bool TryString(JsonWebToken token, string name, out string value)
    {
        if (token.TryGetPayloadValue<string>(name, out var text) && text is not null)
        {
            value = text;
            return true;
        }

        value = string.Empty;
        return false;
    }

    private static bool TryBool(JsonWebToken token, string name, out bool value)
    {
        value = false;
        if (!token.TryGetClaim(name, out var claim))
        {
            return false;
        }

        return claim.ValueType == System.Security.Claims.ClaimValueTypes.Boolean && bool.TryParse(claim.Value, out value);
    }

    private static bool TryRisk(string text, out RiskLevel risk)
    {
        switch (text)
        {
            case "low":
                risk = RiskLevel.Low;
                return true;
            case "medium":
                risk = RiskLevel.Medium;
                return true;
            case "high":
                risk = RiskLevel.High;
                return true;
            default:
                risk = RiskLevel.High;
                return false;
        }
    }

    public void Dispose()
    {
        foreach (var source in _issuers.Values)
        {
            source.Dispose();
        }
    }
}
