using Microsoft.IdentityModel.Tokens;

namespace ZtGateway.Sources.Identity;

/// <summary>
/// What one configured issuer lets the validator trust: the <c>iss</c> values that select it and the
/// validation parameters (keys, issuers, audiences) to check a token with.
/// </summary>
internal abstract class IssuerTrust : IDisposable
{
    /// <summary>Creates a trust for the issuer named <paramref name="name"/> in configuration.</summary>
    protected IssuerTrust(string name)
    {
        Name = name;
    }

    /// <summary>The configured issuer name.</summary>
    public string Name { get; }

    /// <summary>Raised when the signing keys were replaced by a different set (rotation, withdrawal).</summary>
    public event Action? SigningKeysChanged;

    /// <summary>Tells listeners (caches of verified tokens) that the key set changed.</summary>
    protected void OnSigningKeysChanged() => SigningKeysChanged?.Invoke();

    /// <summary>Unverified <c>iss</c> values that route a token to this trust.</summary>
    public abstract IReadOnlyList<string> SelectingIssuers { get; }

    /// <summary>The current validation parameters, or why there are none (unreadable keys, unreachable metadata).</summary>
    public abstract ValueTask<TrustSnapshot> GetSnapshotAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Asks for fresh signing keys after a token named a key id that is not known. Returns true when
    /// new keys arrived and the token is worth checking again.
    /// </summary>
    public virtual ValueTask<bool> RefreshSigningKeysAsync(CancellationToken cancellationToken) => ValueTask.FromResult(false);

    /// <summary>
    /// False only when the trust is sure that no key it holds can verify a token naming <paramref name="keyId"/> and
    /// <paramref name="thumbprint"/>, so the token is refused without a signature check. A trust whose keys can
    /// change (discovery) says true and lets an unknown key id prompt a refresh instead.
    /// </summary>
    public virtual bool MayHoldSigningKey(string? keyId, string? thumbprint) => true;

    /// <summary>The provider's metadata with the signing keys held; null for a trust without discovery or when it cannot be had now.</summary>
    public virtual ValueTask<Microsoft.IdentityModel.Protocols.OpenIdConnect.OpenIdConnectConfiguration?> GetProviderConfigurationAsync(
        CancellationToken cancellationToken) => ValueTask.FromResult<Microsoft.IdentityModel.Protocols.OpenIdConnect.OpenIdConnectConfiguration?>(null);

    /// <summary>Whether the trust holds signing keys now.</summary>
    public abstract IssuerReadiness Readiness { get; }

    /// <summary>
    /// Starts loading keys in the background so the first request does not wait for them. Returns at once;
    /// does nothing for trusts whose keys are already loaded.
    /// </summary>
    public virtual void StartWarmUp()
    {
    }

    /// <summary>
    /// Takes over the keys a trust of the previous policy holds for the same provider, so a policy reload
    /// during a provider outage does not lose them. Does nothing when the two trusts differ in provider.
    /// </summary>
    public virtual void AdoptKeysFrom(IssuerTrust previous)
    {
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases resources held by the trust.</summary>
    protected virtual void Dispose(bool disposing)
    {
    }
}

/// <summary>Validation parameters of an issuer at one moment, or the reason it cannot validate anything.</summary>
/// <param name="Parameters">Ready-to-use parameters; null when <paramref name="Failure"/> is set.</param>
/// <param name="Failure">Why every token of this issuer is refused right now.</param>
internal sealed record TrustSnapshot(TokenValidationParameters? Parameters, string? Failure)
{
    /// <summary>A snapshot that refuses every token for <paramref name="failure"/>.</summary>
    public static TrustSnapshot Refuse(string failure) => new(null, failure);
}
