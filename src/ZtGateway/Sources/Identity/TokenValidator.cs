using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Engine;

namespace ZtGateway.Sources.Identity;

/// <summary>
/// Verifies bearer tokens from the issuers of <c>identity.issuers</c>: a token is routed by its unverified
/// <c>iss</c> to exactly one issuer, then its signature, issuer, audience and lifetime are checked against
/// that issuer only. Every failure maps to <see cref="TokenStatus.Missing"/>, <see cref="TokenStatus.Invalid"/>
/// or <see cref="TokenStatus.Expired"/>; nothing is thrown.
/// </summary>
/// <remarks>
/// The cheap checks come first, so that junk never costs a signature check: length and shape
/// (<see cref="CompactJws"/>), a JSON header and payload, a known <c>iss</c>, a signature, an accepted <c>alg</c>
/// and, for a static key set, a known <c>kid</c>.
/// </remarks>
internal sealed partial class TokenValidator : ITokenValidator, IDisposable
{
    private const string BearerScheme = "Bearer";
    private const string EntraDefaultInstance = "https://login.microsoftonline.com/";

    /// <summary>Largest discovery document or key set read from a provider.</summary>
    internal const int MaxMetadataBytes = 1024 * 1024;

    private readonly JsonWebTokenHandler _handler = new();
    private readonly Dictionary<string, IssuerTrust> _trustsByIssuer = new(StringComparer.Ordinal);
    private readonly List<IssuerTrust> _trusts = [];
    private readonly List<IssuerReadiness> _unusable = [];
    private readonly HttpClient _backchannel;
    private readonly ILogger _logger;

    /// <summary>Prepares every configured issuer. JWKS files are read now; discovery happens on first use.</summary>
    /// <param name="settings">The <c>identity:</c> section.</param>
    /// <param name="timeProvider">Clock for token lifetimes.</param>
    /// <param name="backchannel">Handler for metadata requests; a new one is created (and owned) when null.</param>
    /// <param name="logger">Where issuer problems and refusals are logged.</param>
    public TokenValidator(IdentitySettings settings, TimeProvider timeProvider, HttpMessageHandler? backchannel = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _logger = logger ?? NullLogger.Instance;
        _backchannel = backchannel is null
            ? new HttpClient(new SocketsHttpHandler { ConnectTimeout = DiscoveryIssuerTrust.FetchTimeout }, disposeHandler: true)
            : new HttpClient(backchannel, disposeHandler: false);
        _backchannel.Timeout = DiscoveryIssuerTrust.FetchTimeout;
        _backchannel.MaxResponseContentBufferSize = MaxMetadataBytes;

        foreach (var issuer in settings.Issuers)
        {
            var trust = CreateTrust(issuer, settings.ClockSkew, timeProvider);
            if (trust is null)
            {
                _unusable.Add(new IssuerReadiness(issuer.Name, false, "issuer cannot be used as configured"));
                continue;
            }

            trust.SigningKeysChanged += () => SigningKeysChanged?.Invoke();
            _trusts.Add(trust);
            foreach (var iss in trust.SelectingIssuers)
            {
                if (!_trustsByIssuer.TryAdd(iss, trust))
                {
                    Log.DuplicateIssuer(_logger, iss, _trustsByIssuer[iss].Name, trust.Name);
                }
            }
        }
    }

    /// <summary>
    /// Creates a validator and starts fetching the metadata of every <c>oidc</c> and <c>entra</c> issuer in
    /// the background: the gateway starts (and refuses their tokens) even while a provider is down.
    /// </summary>
    /// <param name="settings">The <c>identity:</c> section.</param>
    /// <param name="timeProvider">Clock for token lifetimes and key refresh pacing.</param>
    /// <param name="backchannel">Handler for metadata requests; a new one is created (and owned) when null.</param>
    /// <param name="logger">Where issuer problems and refusals are logged.</param>
    /// <param name="previous">
    /// The validator of the policy being replaced: keys it holds for an issuer of the same name and provider
    /// are taken over, so a reload while the provider is down keeps accepting tokens of cached keys.
    /// </param>
    public static TokenValidator Start(IdentitySettings settings, TimeProvider timeProvider, HttpMessageHandler? backchannel = null,
        ILogger? logger = null, ITokenValidator? previous = null)
    {
        var validator = new TokenValidator(settings, timeProvider, backchannel, logger);
        var held = (previous as TokenValidator)?._trusts.ToDictionary(t => t.Name, StringComparer.Ordinal);
        foreach (var trust in validator._trusts)
        {
            if (held is not null && held.TryGetValue(trust.Name, out var before))
            {
                trust.AdoptKeysFrom(before);
            }

            trust.StartWarmUp();
        }

        return validator;
    }

    /// <inheritdoc />
    public event Action? SigningKeysChanged;

    public IReadOnlyList<IssuerReadiness> GetReadiness() => [.. _trusts.Select(t => t.Readiness), .. _unusable];

    /// <inheritdoc />
    public async ValueTask<TokenValidationOutcome> ValidateAsync(string? authorizationHeader, CancellationToken cancellationToken)
    {
        if (!TryGetBearerToken(authorizationHeader, out var token))
        {
            return new TokenValidationOutcome(TokenStatus.Missing, null, null, "no bearer token", null);
        }

        if (token.Length == 0)
        {
            return Refuse(null, "empty bearer token");
        }

        if (CompactJws.ShapeFailure(token) is { } shapeFailure)
        {
            return Refuse(null, shapeFailure);
        }

        string? issuerName = null;
        try
        {
            if (!TryReadUnverified(token, out var unverified, out var readFailure))
            {
                return Refuse(null, readFailure);
            }

            if (unverified.Issuer is not { Length: > 0 } iss || !_trustsByIssuer.TryGetValue(iss, out var trust))
            {
                return Refuse(null, "unknown issuer");
            }

            issuerName = trust.Name;
            if (!unverified.IsSigned)
            {
                return Refuse(issuerName, "unsigned token");
            }

            if (!ValidationParametersFactory.AllowedAlgorithms.Contains(unverified.Alg, StringComparer.Ordinal))
            {
                return Refuse(issuerName, "algorithm not accepted: " + unverified.Alg);
            }

            if (!trust.MayHoldSigningKey(unverified.Kid, unverified.X5t))
            {
                return Refuse(issuerName, "no signing key with this kid");
            }

            var outcome = await ValidateWithTrustAsync(token, trust, cancellationToken).ConfigureAwait(false);
            if (outcome.Status == TokenStatus.Invalid && outcome.KeyNotFound
                && await trust.RefreshSigningKeysAsync(cancellationToken).ConfigureAwait(false))
            {
                outcome = await ValidateWithTrustAsync(token, trust, cancellationToken).ConfigureAwait(false);
            }

            if (outcome.Status == TokenStatus.Expired)
            {
                // The signature is checked before the lifetime, so this exp is a verified one.
                return Refuse(issuerName, outcome.Detail, TokenStatus.Expired, ReadExpiry(unverified));
            }

            if (outcome.Status != TokenStatus.Valid)
            {
                return Refuse(issuerName, outcome.Detail, transient: outcome.Transient);
            }

            var verified = outcome.Token!;
            var principal = PrincipalMapper.Map(verified, out var mapFailure);
            if (principal is null)
            {
                return Refuse(issuerName, mapFailure ?? "no principal");
            }

            // A malformed binding is a property of the token: refused, and remembered as refused like any bad token.
            if (TokenConfirmation.Read(verified, out var thumbprint) is { } cnfFailure)
            {
                return Refuse(issuerName, cnfFailure);
            }

            return new TokenValidationOutcome(TokenStatus.Valid, principal, issuerName, "ok", ReadExpiry(verified))
            {
                ConfirmationThumbprint = thumbprint,
            };
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return Refuse(issuerName, "validation canceled", transient: true);
        }
        catch (Exception ex)
        {
            // A verifier must fail closed: anything unexpected refuses the token rather than surfacing as a 500.
            return Refuse(issuerName, "validation error: " + ex.GetType().Name, transient: true);
        }
    }

    /// <inheritdoc />
    public async ValueTask<IssuedTokenCheck> VerifyIssuedForAsync(string issuerName, string token, string audience, CancellationToken cancellationToken)
    {
        var trust = _trusts.Find(t => string.Equals(t.Name, issuerName, StringComparison.Ordinal));
        if (trust is null)
        {
            return IssuedTokenCheck.Refused("unknown issuer " + issuerName, transient: true);
        }

        if (token.Length == 0 || CompactJws.ShapeFailure(token) is not null)
        {
            return IssuedTokenCheck.Refused(token.Length == 0 ? "empty token" : CompactJws.ShapeFailure(token)!);
        }

        try
        {
            if (!TryReadUnverified(token, out var unverified, out var readFailure))
            {
                return IssuedTokenCheck.Refused(readFailure);
            }

            if (unverified.Issuer is not { Length: > 0 } iss || !_trustsByIssuer.TryGetValue(iss, out var selected) || !ReferenceEquals(selected, trust))
            {
                return IssuedTokenCheck.Refused("token is not from issuer " + issuerName);
            }

            if (!unverified.IsSigned || !ValidationParametersFactory.AllowedAlgorithms.Contains(unverified.Alg, StringComparer.Ordinal))
            {
                return IssuedTokenCheck.Refused(unverified.IsSigned ? "algorithm not accepted: " + unverified.Alg : "unsigned token");
            }

            // The issuer's own checks, with the sign-in client as the one audience.
            var outcome = await ValidateWithTrustAsync(token, trust, cancellationToken, audience).ConfigureAwait(false);
            if (outcome.Status == TokenStatus.Invalid && outcome.KeyNotFound
                && await trust.RefreshSigningKeysAsync(cancellationToken).ConfigureAwait(false))
            {
                outcome = await ValidateWithTrustAsync(token, trust, cancellationToken, audience).ConfigureAwait(false);
            }

            return outcome.Status == TokenStatus.Valid
                ? new IssuedTokenCheck(TokenStatus.Valid, outcome.Token, "ok")
                : IssuedTokenCheck.Refused(outcome.Detail, outcome.Transient, outcome.Status);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return IssuedTokenCheck.Refused("validation canceled", transient: true);
        }
        catch (Exception ex)
        {
            return IssuedTokenCheck.Refused("validation error: " + ex.GetType().Name, transient: true);
        }
    }

    /// <inheritdoc />
    public ValueTask<Microsoft.IdentityModel.Protocols.OpenIdConnect.OpenIdConnectConfiguration?> GetProviderConfigurationAsync(string issuerName,
        CancellationToken cancellationToken) =>
        _trusts.Find(t => string.Equals(t.Name, issuerName, StringComparison.Ordinal)) is { } trust
            ? trust.GetProviderConfigurationAsync(cancellationToken)
            : ValueTask.FromResult<Microsoft.IdentityModel.Protocols.OpenIdConnect.OpenIdConnectConfiguration?>(null);

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var trust in _trusts)
        {
            trust.Dispose();
        }

        _backchannel.Dispose();
    }

    /// <summary>Splits an <c>Authorization</c> value; false when it carries no bearer credentials at all.</summary>
    internal static bool TryGetBearerToken(string? header, out string token)
    {
        token = string.Empty;
        if (string.IsNullOrWhiteSpace(header))
        {
            return false;
        }

        var value = header.AsSpan().Trim();
        if (!value.StartsWith(BearerScheme, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var rest = value[BearerScheme.Length..];
        if (rest.Length > 0 && !char.IsWhiteSpace(rest[0]))
        {
            return false; // a different scheme that merely starts with "Bearer"
        }

        token = rest.Trim().ToString();
        return true;
    }

    private IssuerTrust? CreateTrust(IssuerConfig issuer, TimeSpan clockSkew, TimeProvider timeProvider)
    {
        switch (issuer.Type)
        {
            case IssuerType.Jwks:
                if (string.IsNullOrWhiteSpace(issuer.Issuer))
                {
                    Log.IssuerMisconfigured(_logger, issuer.Name, "jwks issuer has no 'issuer'");
                    return null;
                }

                return new JwksFileIssuerTrust(issuer.Name, issuer.Issuer, issuer.JwksFile, issuer.Audiences, clockSkew, timeProvider, _logger);

            case IssuerType.Oidc:
                if (!IsAbsoluteHttpUri(issuer.Authority))
                {
                    Log.IssuerMisconfigured(_logger, issuer.Name, "oidc issuer needs an absolute http(s) 'authority'");
                    return null;
                }

                var authority = issuer.Authority!;
                var bare = authority.TrimEnd('/');
                return new DiscoveryIssuerTrust(
                    issuer.Name,
                    authority,
                    selectingIssuers: [.. new[] { authority, bare, bare + "/" }.Distinct(StringComparer.Ordinal)],
                    validIssuers: [authority],
                    issuer.Audiences,
                    issuer.RequireHttpsMetadata,
                    _backchannel,
                    clockSkew,
                    timeProvider,
                    _logger);

            case IssuerType.Entra:
                return CreateEntraTrust(issuer, clockSkew, timeProvider);

            default:
                Log.IssuerMisconfigured(_logger, issuer.Name, "unknown issuer type");
                return null;
        }
    }

    // Microsoft.Identity.Web conventions: authority {instance}{tenant}/v2.0, and both the v2.0 and the v1
    // (sts.windows.net) issuer of the tenant are accepted. The tenant is pinned by the exact issuer list:
    // AadIssuerValidator would derive the same two values from tenant-specific metadata, but through
    // fetches of its own outside the gateway's key cache and resilience pipeline. The signing-key checks
    // of Microsoft.IdentityModel.Validators run on top (EntraSigningKeyCheck).
    private DiscoveryIssuerTrust? CreateEntraTrust(IssuerConfig issuer, TimeSpan clockSkew, TimeProvider timeProvider)
    {
        var instance = string.IsNullOrWhiteSpace(issuer.Instance) ? EntraDefaultInstance : issuer.Instance.Trim();
        if (!instance.EndsWith('/'))
        {
            instance += "/";
        }

        var tenantId = issuer.TenantId?.Trim();
        if (string.IsNullOrEmpty(tenantId) || !IsAbsoluteHttpUri(instance))
        {
            Log.IssuerMisconfigured(_logger, issuer.Name, "entra issuer needs a 'tenantId' and an absolute 'instance'");
            return null;
        }

        var authority = instance + tenantId + "/v2.0";
        var v1Issuer = "https://sts.windows.net/" + tenantId + "/";
        return new DiscoveryIssuerTrust(
            issuer.Name,
            authority,
            selectingIssuers: [authority, v1Issuer],
            validIssuers: [authority, v1Issuer],
            issuer.Audiences,
            issuer.RequireHttpsMetadata,
            _backchannel,
            clockSkew,
            timeProvider,
            _logger,
            EntraSigningKeyCheck.For(tenantId));
    }

    private async ValueTask<TrustValidation> ValidateWithTrustAsync(string token, IssuerTrust trust, CancellationToken cancellationToken,
        string? audience = null)
    {
        var snapshot = await trust.GetSnapshotAsync(cancellationToken).ConfigureAwait(false);
        if (snapshot.Parameters is null)
        {
            // The issuer cannot verify anything right now: a verdict about the gateway, not about this token.
            return new TrustValidation(TokenStatus.Invalid, null, snapshot.Failure ?? "issuer unavailable", KeyNotFound: false, Transient: true);
        }

        var parameters = snapshot.Parameters;
        if (audience is not null)
        {
            parameters = parameters.Clone();
            parameters.ValidAudiences = [audience];
            parameters.ValidAudience = null;
        }

        var result = await _handler.ValidateTokenAsync(token, parameters).ConfigureAwait(false);
        if (result.IsValid && result.SecurityToken is JsonWebToken verified)
        {
            return new TrustValidation(TokenStatus.Valid, verified, "ok", KeyNotFound: false);
        }

        var exception = result.Exception;
        if (exception is SecurityTokenExpiredException)
        {
            // IdentityModel checks the lifetime of a token whose signing key it cannot find before it gives up on
            // the signature: "expired" is believed only of a signature that verifies with the lifetime left aside.
            var signatureOnly = parameters.Clone();
            signatureOnly.LifetimeValidator = null;
            signatureOnly.ValidateLifetime = false;
            var signature = await _handler.ValidateTokenAsync(token, signatureOnly).ConfigureAwait(false);
            if (!signature.IsValid)
            {
                exception = signature.Exception;
            }
        }

        var status = exception is SecurityTokenExpiredException ? TokenStatus.Expired : TokenStatus.Invalid;
        return new TrustValidation(status, null, DescribeFailure(exception), exception is SecurityTokenSignatureKeyNotFoundException);
    }

    // The shape (three parts, no encryption, the size) is already checked; this reads the header and payload JSON.
    private bool TryReadUnverified(string token, out JsonWebToken unverified, out string failure)
    {
        unverified = null!;
        try
        {
            unverified = _handler.ReadJsonWebToken(token);
        }
        catch (Exception ex) when (ex is ArgumentException or SecurityTokenException or FormatException or System.Text.Json.JsonException)
        {
            failure = "malformed token";
            return false;
        }

        failure = string.Empty;
        return true;
    }

    private static DateTimeOffset? ReadExpiry(JsonWebToken token)
    {
        try
        {
            return token.ValidTo == DateTime.MinValue ? null : new DateTimeOffset(token.ValidTo, TimeSpan.Zero);
        }
        catch (Exception ex) when (ex is SecurityTokenException or ArgumentException or FormatException)
        {
            return null; // a non-numeric exp: the handler refuses the token later
        }
    }

    private static string DescribeFailure(Exception? exception) => exception switch
    {
        null => "token refused",
        SecurityTokenExpiredException => "token expired",
        SecurityTokenNotYetValidException => "token not yet valid",
        SecurityTokenNoExpirationException => "token has no exp",
        SecurityTokenInvalidLifetimeException => "token lifetime invalid",
        SecurityTokenInvalidAudienceException => "audience not accepted",
        SecurityTokenInvalidIssuerException => "issuer not accepted",
        SecurityTokenSignatureKeyNotFoundException => "signing key not found",
        SecurityTokenInvalidAlgorithmException => "algorithm not accepted",
        SecurityTokenInvalidSignatureException => "signature invalid",
        SecurityTokenMalformedException => "malformed token",
        _ => "token refused: " + exception.GetType().Name,
    };

    private static bool IsAbsoluteHttpUri(string? value)
        => Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp);

    // Expires is only reported where it was verified; elsewhere it would repeat attacker-controlled input.
    private TokenValidationOutcome Refuse(string? issuerName, string detail, TokenStatus status = TokenStatus.Invalid, DateTimeOffset? expires = null,
        bool transient = false)
    {
        Log.TokenRefused(_logger, issuerName ?? "(none)", status, detail);
        return new TokenValidationOutcome(status, null, issuerName, detail, expires, transient);
    }

    private readonly record struct TrustValidation(TokenStatus Status, JsonWebToken? Token, string Detail, bool KeyNotFound, bool Transient = false);

    private static partial class Log
    {
        [LoggerMessage(IdentityEventIds.IssuerMisconfigured, LogLevel.Error, "Issuer {Issuer} cannot be used: {Reason}; its tokens will be refused.")]
        public static partial void IssuerMisconfigured(ILogger logger, string issuer, string reason);

        [LoggerMessage(IdentityEventIds.DuplicateIssuer, LogLevel.Warning, "Token issuer {Iss} is claimed by both {First} and {Second}; {First} is used.")]
        public static partial void DuplicateIssuer(ILogger logger, string iss, string first, string second);

        [LoggerMessage(IdentityEventIds.TokenRefused, LogLevel.Debug, "Token refused (issuer {Issuer}, status {Status}): {Detail}")]
        public static partial void TokenRefused(ILogger logger, string issuer, TokenStatus status, string detail);
    }
}
