namespace ZtGateway.DevTools;

/// <summary>What <c>ztgw dev token</c> puts into a development token. Defaults suit the sample configuration.</summary>
internal sealed record DevTokenRequest
{
    /// <summary>The user's <c>sub</c>. Ignored for workload tokens. Defaults to <c>dev-user</c>.</summary>
    public string Subject { get; init; } = "dev-user";

    /// <summary>The <c>groups</c> claim. Defaults to none (claim omitted).</summary>
    public IReadOnlyList<string> Groups { get; init; } = [];

    /// <summary>The <c>roles</c> claim. Defaults to none (claim omitted).</summary>
    public IReadOnlyList<string> Roles { get; init; } = [];

    /// <summary>The <c>amr</c> claim of user tokens. Defaults to <c>pwd</c> and <c>mfa</c>, so the strict defaults pass.</summary>
    public IReadOnlyList<string> Amr { get; init; } = ["pwd", "mfa"];

    /// <summary>The <c>acr</c> claim; omitted when null (the default).</summary>
    public string? Acr { get; init; }

    /// <summary>
    /// How long ago the user signed in: <c>auth_time</c> = issue time minus this. Null omits <c>auth_time</c>.
    /// Defaults to zero (signed in just now).
    /// </summary>
    public TimeSpan? AuthAge { get; init; } = TimeSpan.Zero;

    /// <summary>
    /// When set, a workload token is minted instead: <c>sub</c> = this id, <c>azp</c> = this id unless it is a
    /// SPIFFE id, and no <c>amr</c> or <c>auth_time</c>. Defaults to null (a user token).
    /// </summary>
    public string? Workload { get; init; }

    /// <summary>Time from issue to <c>exp</c>. Defaults to one hour.</summary>
    public TimeSpan Lifetime { get; init; } = TimeSpan.FromHours(1);

    /// <summary>The <c>iss</c> claim. Defaults to <c>https://idp.example</c>, the sample offline issuer.</summary>
    public string Issuer { get; init; } = "https://idp.example";

    /// <summary>The <c>aud</c> claim. Defaults to <c>ztgw</c>.</summary>
    public string Audience { get; init; } = "ztgw";
}
