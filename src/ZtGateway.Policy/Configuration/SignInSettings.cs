namespace ZtGateway.Policy.Configuration;

/// <summary>
/// The <c>signIn:</c> section of gateway.yaml: how segments with <c>signIn: true</c> sign people in with a browser
/// (OpenID Connect authorization code with PKCE, a confidential client). Null on <see cref="GatewayConfig.SignIn"/> when
/// absent: then no segment may say <c>signIn: true</c>.
/// </summary>
public sealed record SignInSettings
{
    /// <summary>The name of the <c>identity.issuers</c> entry people sign in at; it must be of type <c>oidc</c> or <c>entra</c>. Required.</summary>
    public required string Issuer { get; init; }

    /// <summary>The gateway's client id at that provider; the ID token's <c>aud</c>. Required.</summary>
    public required string ClientId { get; init; }

    /// <summary>
    /// Absolute path of the file holding the client secret (its first line, trimmed); must exist, not be empty and not
    /// be readable by every user. Required.
    /// </summary>
    public required string ClientSecretFile { get; init; }

    /// <summary>Scopes asked for; always holds <c>openid</c>. Defaults to <c>[openid, profile]</c>.</summary>
    public IReadOnlyList<string> Scopes { get; init; } = DefaultScopes;

    /// <summary>How long a session lasts from sign-in, whatever happens meanwhile. Defaults to 8 hours; 5 minutes to 24 hours.</summary>
    public TimeSpan SessionLifetime { get; init; } = TimeSpan.FromHours(8);

    /// <summary>Where the section was written.</summary>
    public SourceLocation Location { get; init; } = SourceLocation.None;

    /// <summary>The scopes asked for when <c>scopes</c> is absent.</summary>
    public static IReadOnlyList<string> DefaultScopes { get; } = ["openid", "profile"];
}
