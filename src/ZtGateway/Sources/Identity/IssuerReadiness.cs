namespace ZtGateway.Sources.Identity;

/// <summary>Whether one configured issuer can verify tokens right now (<c>/readyz</c>).</summary>
/// <param name="Issuer">The configured issuer name.</param>
/// <param name="Ready">True once the issuer holds signing keys: its JWKS file was read, or its metadata was fetched at least once.</param>
/// <param name="Detail">What was loaded, or why nothing was; safe to show operators (no token contents).</param>
internal sealed record IssuerReadiness(string Issuer, bool Ready, string Detail);
