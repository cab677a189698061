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

    /// <summary>Raised when an issuer's signing keys changed, so anything remembering verified tokens must forget them.</summary>
    event Action? SigningKeysChanged;
}
