using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using ZtGateway.Policy.Engine;

namespace ZtGateway.Sources.Identity;

/// <summary>Verifies the bearer token of a request against the configured issuers (docs/design.md sections 2.1 and 3).</summary>
internal interface ITokenValidator
{
    /// <summary>
    /// Verifies the value of an <c>Authorization</c> header. Never throws: every failure, including an
    /// unreachable identity provider, becomes a refused outcome.
    /// </summary>
    /// <param name="authorizationHeader">The raw header value, or null when the request had none.</param>
    /// <param name="cancellationToken">Cancels waiting for issuer metadata.</param>
    /// <returns>The verdict, with the verified principal when the token is valid.</returns>
    ValueTask<TokenValidationOutcome> ValidateAsync(string? authorizationHeader, CancellationToken cancellationToken);

    /// <summary>
    /// Like <see cref="ValidateAsync(string?, CancellationToken)"/> for a caller that keeps <paramref name="recent"/> (one per
    /// connection): a verifier that remembers verdicts finds the one of the header presented last time without hashing it.
    /// </summary>
    ValueTask<TokenValidationOutcome> ValidateAsync(string? authorizationHeader, RecentCredential? recent, CancellationToken cancellationToken) =>
        ValidateAsync(authorizationHeader, cancellationToken);

    /// <summary>
    /// Whether each configured issuer holds signing keys: a <c>jwks</c> issuer once its file was read, an
    /// <c>oidc</c> or <c>entra</c> issuer once its metadata and keys were fetched at least once.
    /// </summary>
    IReadOnlyList<IssuerReadiness> GetReadiness();

    /// <summary>
    /// Verifies a token the issuer named <paramref name="issuerName"/> issued to <paramref name="audience"/> (an ID token
    /// or a logout token for the gateway's sign-in client): the same signature, issuer, algorithm and lifetime checks as
    /// a bearer token, with that audience instead of the issuer's configured ones. Never throws.
    /// </summary>
    ValueTask<IssuedTokenCheck> VerifyIssuedForAsync(string issuerName, string token, string audience, CancellationToken cancellationToken) =>
        ValueTask.FromResult(IssuedTokenCheck.Refused("issuer cannot verify tokens for a sign-in client", transient: true));

    /// <summary>
    /// The provider metadata (endpoints and the signing keys held) of a discovery issuer, from the same cache its
    /// tokens are verified with; null when the issuer is unknown, has no discovery, or its metadata cannot be had now.
    /// </summary>
    ValueTask<OpenIdConnectConfiguration?> GetProviderConfigurationAsync(string issuerName, CancellationToken cancellationToken) =>
        ValueTask.FromResult<OpenIdConnectConfiguration?>(null);

    /// <summary>Raised when an issuer's signing keys changed, so anything remembering verified tokens must forget them.</summary>
    event Action? SigningKeysChanged;
}

/// <summary>The verdict of <see cref="ITokenValidator.VerifyIssuedForAsync"/>.</summary>
/// <param name="Status">Valid, Invalid or Expired.</param>
/// <param name="Token">The verified token when <paramref name="Status"/> is valid.</param>
/// <param name="Detail">Why it was refused (or "ok"); for logs.</param>
/// <param name="Transient">The refusal says nothing about the token (the issuer's keys could not be had).</param>
internal sealed record IssuedTokenCheck(TokenStatus Status, JsonWebToken? Token, string Detail, bool Transient = false)
{
    /// <summary>A refusal for <paramref name="detail"/>.</summary>
    public static IssuedTokenCheck Refused(string detail, bool transient = false, TokenStatus status = TokenStatus.Invalid) =>
        new(status, null, detail, transient);
}
