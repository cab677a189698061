using Microsoft.IdentityModel.Tokens;

namespace ZtGateway.Sources.Identity;

/// <summary>
/// An issuer whose keys come from a JWKS file (<c>type: jwks</c>): air-gapped sites and tests. The file
/// is read once; a missing or broken file makes the issuer refuse every token instead of failing startup.
/// </summary>
internal sealed partial class JwksFileIssuerTrust : IssuerTrust
{
    /// <summary>The detail of every refusal when the key file could not be used.</summary>
    public const string UnreadableDetail = "jwks file unreadable";

    private readonly TrustSnapshot _snapshot;
    private readonly List<SecurityKey>? _keys;

    /// <summary>Reads <paramref name="jwksFile"/> and prepares the parameters.</summary>
    public JwksFileIssuerTrust(
        string name,
        string issuer,
        string? jwksFile,
        IReadOnlyList<string> audiences,
        TimeSpan clockSkew,
        TimeProvider timeProvider,
        ILogger logger)
        : base(name)
    {
        SelectingIssuers = [issuer];
        var keys = LoadKeys(name, jwksFile, logger);
        _keys = keys;
        _snapshot = keys is null
            ? TrustSnapshot.Refuse(UnreadableDetail)
            : new TrustSnapshot(ValidationParametersFactory.Create([issuer], audiences, keys, clockSkew, timeProvider), null);
        Readiness = keys is null
            ? new IssuerReadiness(name, false, UnreadableDetail)
            : new IssuerReadiness(name, true, $"{keys.Count} signing key(s) from {Path.GetFileName(jwksFile)}");
    }

    /// <inheritdoc />
    public override IssuerReadiness Readiness { get; }

    /// <inheritdoc />
    public override IReadOnlyList<string> SelectingIssuers { get; }

    /// <inheritdoc />
    /// <remarks>
    /// The file is read once, so the key set never changes: a token with no <c>kid</c> (nor <c>x5t</c>, which the
    /// handler may match instead) or with a <c>kid</c> of none of the keys cannot verify. Ids are compared without
    /// regard to case, which only ever lets more tokens on to the handler's own, exact, lookup.
    /// </remarks>
    public override bool MayHoldSigningKey(string? keyId, string? thumbprint)
    {
        if (_keys is null || !string.IsNullOrEmpty(thumbprint))
        {
            // An unreadable file refuses every token with its own reason; a thumbprint is matched by the handler.
            return true;
        }

        if (string.IsNullOrEmpty(keyId))
        {
            return false;
        }

        foreach (var key in _keys)
        {
            if (string.Equals(key.KeyId, keyId, StringComparison.OrdinalIgnoreCase)
                || (key is X509SecurityKey x509 && string.Equals(x509.X5t, keyId, StringComparison.OrdinalIgnoreCase)))
            {
                return true;
            }
        }

        return false;
    }

    /// <inheritdoc />
    public override ValueTask<TrustSnapshot> GetSnapshotAsync(CancellationToken cancellationToken) => ValueTask.FromResult(_snapshot);

    private static List<SecurityKey>? LoadKeys(string name, string? jwksFile, ILogger logger)
    {
        if (string.IsNullOrWhiteSpace(jwksFile))
        {
            Log.JwksUnreadable(logger, name, "(none)", "no jwksFile configured");
            return null;
        }

        try
        {
            var keySet = new JsonWebKeySet(File.ReadAllText(jwksFile));
            var keys = keySet.GetSigningKeys().ToList();
            if (keys.Count == 0)
            {
                Log.JwksUnreadable(logger, name, jwksFile, "no usable signing keys");
                return null;
            }

            return keys;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or System.Text.Json.JsonException or InvalidOperationException or NotSupportedException or System.Security.SecurityException)
        {
            Log.JwksUnreadable(logger, name, jwksFile, ex.Message);
            return null;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(IdentityEventIds.JwksUnreadable, LogLevel.Error, "Issuer {Issuer}: JWKS file {Path} is unreadable ({Reason}); every token of this issuer will be refused.")]
        public static partial void JwksUnreadable(ILogger logger, string issuer, string path, string reason);
    }
}
