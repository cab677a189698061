using ZtGateway.Policy.Engine;

namespace ZtGateway.Sources.Identity;

/// <summary>What verifying the caller's bearer token established.</summary>
/// <param name="Status">The verdict the decision engine sees as <see cref="RequestContext.Token"/>.</param>
/// <param name="Principal">The verified caller; set only when <paramref name="Status"/> is <see cref="TokenStatus.Valid"/>.</param>
/// <param name="IssuerName">Name of the configured issuer the token claimed to come from, when one matched.</param>
/// <param name="Detail">Why the token was refused (or "ok"). For logs only: never sent to the caller.</param>
/// <param name="Expires">The token's <c>exp</c>, when it could be read.</param>
/// <param name="Transient">
/// True for a refusal that says nothing about the token itself: the issuer's keys could not be had, the request was
/// canceled, or the verifier failed. Such a refusal is never remembered; the next request decides afresh.
/// </param>
internal sealed record TokenValidationOutcome(
    TokenStatus Status,
    Principal? Principal,
    string? IssuerName,
    string Detail,
    DateTimeOffset? Expires,
    bool Transient = false)
{
    /// <summary>
    /// The verified token's <c>cnf</c> <c>x5t#S256</c> (RFC 8705): the token is valid only over a connection whose client
    /// certificate has this thumbprint. Part of the remembered verdict; compared per request by <see cref="WorkloadCertificates"/>.
    /// </summary>
    public string? ConfirmationThumbprint { get; init; }

    /// <summary>How the credential is bound to this request's connection; set per request by <see cref="WorkloadCertificates"/>.</summary>
    public CredentialBinding Binding { get; init; }

    /// <summary>
    /// The refusal is of a token bound to a client certificate the connection did not present: its challenge says so
    /// (<c>error_description</c>).
    /// </summary>
    public bool BoundToAnotherCertificate { get; init; }
}
