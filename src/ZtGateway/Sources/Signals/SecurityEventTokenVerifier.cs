using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using ZtGateway.Policy.Configuration;
using ZtGateway.Sources.Keys;

namespace ZtGateway.Sources.Signals;

/// <summary>A verified SET, or why it was refused.</summary>
internal sealed record SetVerification(string? Error, string Description, JsonWebToken? Token, KeySourceConfig? Transmitter, DateTimeOffset IssuedAt)
{
    public bool Succeeded => Error is null;

    public static SetVerification Refused(string error, string description) => new(error, description, null, null, default);
}

/// <summary>
/// Verifies Security Event Tokens (RFC 8417) from the transmitters of <c>signals.transmitters</c>: <c>typ</c>
/// <c>secevent+jwt</c>, an asymmetric signature by a key of the transmitter named in <c>iss</c> (chosen by
/// <c>kid</c>), <c>aud</c> equal to that transmitter's <c>audience</c>, <c>iat</c> within
/// <see cref="SignalReceiver.MaxAge"/>, <c>exp</c> (when present) not passed, and a <c>jti</c>.
/// One instance per policy version; a reload builds a new one (and reads the key files again).
/// </summary>
internal sealed class SecurityEventTokenVerifier : IDisposable
{
    private static readonly string[] AsymmetricAlgorithms =
    [
        SecurityAlgorithms.EcdsaSha256, SecurityAlgorithms.EcdsaSha384, SecurityAlgorithms.EcdsaSha512,
        SecurityAlgorithms.RsaSha256, SecurityAlgorithms.RsaSha384, SecurityAlgorithms.RsaSha512,
        SecurityAlgorithms.RsaSsaPssSha256, SecurityAlgorithms.RsaSsaPssSha384, SecurityAlgorithms.RsaSsaPssSha512,
    ];

    private readonly Dictionary<string, (KeySourceConfig Config, JwksKeySource Keys)> _transmitters = new(StringComparer.Ordinal);
    private readonly TimeSpan _clockSkew;
    private readonly TimeProvider _time;
    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };

    public SecurityEventTokenVerifier(SignalsSettings settings, TimeSpan clockSkew, TimeProvider timeProvider, HttpMessageHandler? backchannel, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(settings);
        Settings = settings;
        _clockSkew = clockSkew < SignalReceiver.MaxClockSkew ? clockSkew : SignalReceiver.MaxClockSkew;
        _time = timeProvider;
        foreach (var transmitter in settings.Transmitters)
        {
            var keys = transmitter.JwksFile is not null
                ? JwksKeySource.FromFile(transmitter.JwksFile, timeProvider, logger)
                : JwksKeySource.FromUri("signal transmitter " + transmitter.Issuer, new Uri(transmitter.JwksUri!), backchannel, timeProvider, logger);
            _transmitters[transmitter.Issuer] = (transmitter, keys);
        }
    }

    /// <summary>The settings this verifier was built from.</summary>
    public SignalsSettings Settings { get; }

    /// <summary>The clock skew this verifier tolerates.</summary>
    public TimeSpan ClockSkew => _clockSkew;

    public async ValueTask<SetVerification> VerifyAsync(string set, CancellationToken cancellationToken)
    {
        JsonWebToken token;
        try
        {
            token = new JsonWebToken(set);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or SecurityTokenException or System.Text.Json.JsonException)
        {
            // A part that is not base64url (a five-part body is read as a JWE) throws FormatException, not ArgumentException.
            return SetVerification.Refused(SetErrors.InvalidRequest, "the body is not a JWT in compact serialization");
        }

        if (token.IsEncrypted)
        {
            return SetVerification.Refused(SetErrors.InvalidRequest, "encrypted SETs are not accepted");
        }

        if (!IsSetType(token.Typ))
        {
            return SetVerification.Refused(SetErrors.InvalidRequest, "the JOSE header typ must be secevent+jwt");
        }

        if (!AsymmetricAlgorithms.Contains(token.Alg, StringComparer.Ordinal))
        {
            return SetVerification.Refused(SetErrors.InvalidKey, "the SET must be signed with an asymmetric algorithm");
        }

        if (token.Issuer is null || !_transmitters.TryGetValue(token.Issuer, out var transmitter))
        {
            return SetVerification.Refused(SetErrors.InvalidIssuer, "the issuer is not a configured transmitter");
        }

        var parameters = new TokenValidationParameters
        {
            ValidIssuer = transmitter.Config.Issuer,
            ValidateAudience = false,
            ValidateLifetime = false,
            RequireExpirationTime = false,
            RequireSignedTokens = true,
            ValidAlgorithms = AsymmetricAlgorithms,
            IssuerSigningKeys = await transmitter.Keys.GetKeysAsync(token.Kid, cancellationToken),
            TryAllIssuerSigningKeys = false,
        };

        TokenValidationResult result;
        try
        {
            result = await _handler.ValidateTokenAsync(token, parameters);
        }
        catch (Exception ex) when (ex is ArgumentException or SecurityTokenException or FormatException)
        {
            return SetVerification.Refused(SetErrors.InvalidKey, "the signature could not be verified");
        }

        if (!result.IsValid)
        {
            return SetVerification.Refused(SetErrors.InvalidKey, "the signature could not be verified with the transmitter's keys");
        }

        if (!token.Audiences.Contains(transmitter.Config.Audience, StringComparer.Ordinal))
        {
            return SetVerification.Refused(SetErrors.InvalidAudience, "the audience is not this gateway");
        }

        return CheckClaims(token, transmitter.Config);
    }

    public void Dispose()
    {
        foreach (var (_, keys) in _transmitters.Values)
        {
            keys.Dispose();
        }
    }

    private SetVerification CheckClaims(JsonWebToken token, KeySourceConfig transmitter)
    {
        var now = _time.GetUtcNow();
        if (!token.TryGetPayloadValue<long>("iat", out var iatSeconds))
        {
            return SetVerification.Refused(SetErrors.InvalidRequest, "the SET has no iat");
        }

        var issuedAt = DateTimeOffset.FromUnixTimeSeconds(iatSeconds);
        if (issuedAt - _clockSkew > now)
        {
            return SetVerification.Refused(SetErrors.InvalidRequest, "the SET was issued in the future");
        }

        if (now - issuedAt > SignalReceiver.MaxAge + _clockSkew)
        {
            return SetVerification.Refused(SetErrors.InvalidRequest, "the SET is too old");
        }

        if (token.TryGetClaim("exp", out _)
            && (!token.TryGetPayloadValue<long>("exp", out var expSeconds) || DateTimeOffset.FromUnixTimeSeconds(expSeconds) + _clockSkew < now))
        {
            return SetVerification.Refused(SetErrors.InvalidRequest, "the SET has expired");
        }

        if (string.IsNullOrEmpty(token.Id))
        {
            return SetVerification.Refused(SetErrors.InvalidRequest, "the SET has no jti");
        }

        return new SetVerification(null, "verified", token, transmitter, issuedAt);
    }

    private static bool IsSetType(string? typ) =>
        string.Equals(typ, "secevent+jwt", StringComparison.OrdinalIgnoreCase)
        || string.Equals(typ, "application/secevent+jwt", StringComparison.OrdinalIgnoreCase);
}
