using Microsoft.IdentityModel.Tokens;

namespace ZtGateway.Upstream;

/// <summary>
/// How an upstream service verifies the assertion the ZtGateway attaches to every request it forwards.
/// </summary>
/// <remarks>
/// <see cref="Issuer"/> and <see cref="Audience"/> are required, and so is exactly one key source:
/// <see cref="JwksUri"/> or <see cref="SigningKeys"/>. Problems are reported together when the host starts.
/// </remarks>
public sealed class ZtGatewayAssertionOptions
{
    /// <summary>The request header that carries the assertion. Defaults to <c>X-ZT-Assertion</c>.</summary>
    public string Header { get; set; } = "X-ZT-Assertion";

    /// <summary>
    /// The gateway's assertion issuer, compared exactly with the <c>iss</c> claim
    /// (for example <c>https://ztgw.example</c>). Required.
    /// </summary>
    public string Issuer { get; set; } = "";

    /// <summary>
    /// This service's name as the gateway knows it, compared exactly with the <c>aud</c> claim.
    /// Required: it is what stops an assertion minted for another service from being replayed here.
    /// </summary>
    public string Audience { get; set; } = "";

    /// <summary>
    /// The gateway's key set, <c>{gateway listener}/.well-known/ztgw/jwks.json</c>. Required unless
    /// <see cref="SigningKeys"/> holds keys; setting both is an error. Defaults to <see langword="null"/>.
    /// </summary>
    public Uri? JwksUri { get; set; }

    /// <summary>
    /// Static verification keys used instead of fetching <see cref="JwksUri"/>, for tests and air-gapped
    /// sites. Only ES256 signatures are accepted whatever the key. Empty by default.
    /// </summary>
    public IList<SecurityKey> SigningKeys { get; } = new List<SecurityKey>();

    /// <summary>
    /// Tolerance for clock differences between the gateway and this service when checking
    /// <c>exp</c>, <c>nbf</c> and <c>iat</c>. Defaults to 5 seconds.
    /// </summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long fetched keys are used before the key set is fetched again. A token signed with an
    /// unknown key id also triggers a fetch, at most once every 30 seconds. Defaults to 5 minutes.
    /// </summary>
    public TimeSpan JwksRefreshInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// The handler used to fetch <see cref="JwksUri"/> (custom TLS trust, proxies, tests). It is not
    /// disposed by this library. Defaults to <see langword="null"/>: a private handler is created.
    /// </summary>
    public HttpMessageHandler? BackchannelHandler { get; set; }

    /// <summary>The clock used for assertion lifetimes and key refresh. Defaults to <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;
}
