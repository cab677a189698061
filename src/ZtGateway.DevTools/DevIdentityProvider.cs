using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.IdentityModel.Tokens;
using ZtGateway.KeySets;
using ZtGateway.Runtime;

namespace ZtGateway.DevTools;

/// <summary>A sample person the development identity provider knows.</summary>
internal sealed record DevUser(string Name, string[] Groups, string[] Roles);

/// <summary>A sample workload client (client credentials) and the workload identity its tokens carry.</summary>
internal sealed record DevClient(string ClientId, string Secret, string WorkloadId);

/// <summary>How to run the development identity provider.</summary>
internal sealed record DevIdentityProviderOptions
{
    public string Listen { get; init; } = "http://127.0.0.1:5556";

    /// <summary>PEM private key; an RSA key is created there when the file is missing.</summary>
    public required string KeyFile { get; init; }

    public string Audience { get; init; } = "ztgw";

    /// <summary>Allow a non-loopback listen address.</summary>
    public bool Force { get; init; }

    public TimeSpan TokenLifetime { get; init; } = TimeSpan.FromHours(1);

    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    public IReadOnlyList<DevUser> Users { get; init; } = SampleUsers;

    public IReadOnlyList<DevClient> Clients { get; init; } = SampleClients;

    /// <summary>The web clients people sign in to with a browser. Defaults to <see cref="DevWebClient.Samples"/>.</summary>
    public IReadOnlyList<DevWebClient> WebClients { get; init; } = DevWebClient.Samples;

    /// <summary>How long a browser's sign-in is remembered, so that a later request may skip the form. Defaults to 8 hours.</summary>
    public TimeSpan LoginLifetime { get; init; } = TimeSpan.FromHours(8);

    /// <summary>The people of the sample network. Their password is <c>dev</c>.</summary>
    public static IReadOnlyList<DevUser> SampleUsers { get; } =
    [
        new("alice", ["finance-staff"], ["Accountant"]),
        new("harry", ["hr-staff"], []),
        new("paula", ["hr-staff"], ["PayrollAdmin"]),
        new("erin", ["engineers"], []),
        new("carl", ["hr-staff", "contractors"], []),
    ];

    /// <summary>The workloads of the sample network. Their secret is <c>dev-secret</c>.</summary>
    public static IReadOnlyList<DevClient> SampleClients { get; } =
    [
        new("ledger-sync", "dev-secret", "spiffe://corp.example/finance/ledger-sync"),
        new("payroll-engine", "dev-secret", "spiffe://corp.example/hr/payroll-engine"),
        new("ci-runner", "dev-secret", "spiffe://corp.example/engineering/ci-runner"),
    ];
}

/// <summary>
/// A development OpenID Provider on loopback: discovery, JWKS, browser sign-in (<see cref="DevSignIn"/>: authorization
/// code with PKCE for the sample web clients, and logout) and a token endpoint with the authorization code grant,
/// client credentials for the sample workloads and a password grant (with or without MFA) for the sample users. It
/// exists so the gateway's <c>type: oidc</c> path and its browser sign-in can be tried without a cloud tenant; it is
/// never for production.
/// </summary>
internal sealed class DevIdentityProvider : IAsyncDisposable
{
    public const string DevPassword = "dev";

    private readonly WebApplication _app;
    private string _discovery = "{}";

    private DevIdentityProvider(WebApplication app) => _app = app;

    /// <summary>The authority (and <c>iss</c>), without a trailing slash.</summary>
    public string Authority { get; private set; } = string.Empty;

    public static bool IsLoopback(string listen)
    {
        if (!Uri.TryCreate(listen, UriKind.Absolute, out var uri))
        {
            return false;
        }

        return uri.IsLoopback || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));
    }

    public static async Task<DevIdentityProvider> StartAsync(DevIdentityProviderOptions options, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        if (!options.Force && !IsLoopback(options.Listen))
        {
            throw new InvalidOperationException($"refusing to serve development tokens on {options.Listen}: not a loopback address (use --force)");
        }

        if (!File.Exists(options.KeyFile))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(options.KeyFile))!);
            DevKeys.CreateRsa(options.KeyFile, Path.ChangeExtension(options.KeyFile, ".jwks.json"), overwrite: false);
        }

        var credentials = DevKeys.LoadSigningCredentials(options.KeyFile);
        var jwks = JwksOf(credentials);

        var builder = EmbeddedWebApp.CreateBuilder("ztgw-dev-idp", options.Listen, loggerFactory);
        var app = builder.Build();
        var provider = new DevIdentityProvider(app);
        var signIn = new DevSignIn(options, credentials, () => provider.Authority);

        app.MapGet("/.well-known/openid-configuration", () => Results.Text(provider._discovery, "application/json"));
        app.MapGet("/jwks", () => Results.Text(jwks, "application/jwk-set+json"));
        signIn.Map(app);
        app.MapPost("/token", async (HttpContext context) =>
        {
            // RFC 6749 section 5.1: token responses are never cached.
            context.Response.Headers.CacheControl = "no-store";
            context.Response.Headers.Pragma = "no-cache";
            if (!context.Request.HasFormContentType)
            {
                return TokenError(StatusCodes.Status400BadRequest, "invalid_request", "form body expected");
            }

            var form = await context.Request.ReadFormAsync(context.RequestAborted);
            var authorization = context.Request.Headers.Authorization.ToString();
            return form["grant_type"] == "authorization_code"
                ? signIn.RedeemCode(form, authorization)
                : Issue(form, authorization, options, provider.Authority, credentials);
        });

        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        provider.Authority = address.TrimEnd('/');
        provider._discovery = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["issuer"] = provider.Authority,
            ["jwks_uri"] = provider.Authority + "/jwks",
            ["authorization_endpoint"] = provider.Authority + "/authorize",
            ["token_endpoint"] = provider.Authority + "/token",
            ["end_session_endpoint"] = provider.Authority + "/logout",
            ["response_types_supported"] = (string[])["code"],
            ["response_modes_supported"] = (string[])["query"],
            ["code_challenge_methods_supported"] = (string[])["S256"],
            ["scopes_supported"] = (string[])["openid", "profile"],
            ["claims_supported"] = (string[])["sub", "auth_time", "amr", "acr", "sid", "nonce", "groups", "roles", "name", "preferred_username"],
            ["acr_values_supported"] = DevLogin.AcrValues,
            ["subject_types_supported"] = (string[])["public"],
            ["id_token_signing_alg_values_supported"] = (string[])[credentials.Algorithm],
            ["grant_types_supported"] = (string[])["authorization_code", "client_credentials", "password"],
            ["token_endpoint_auth_methods_supported"] = (string[])["client_secret_post", "client_secret_basic"],
            ["authorization_response_iss_parameter_supported"] = true,
            ["request_parameter_supported"] = false,
            ["request_uri_parameter_supported"] = false,
            ["claims_parameter_supported"] = false,
        });
        return provider;
    }

    private static IResult Issue(IFormCollection form, string authorization, DevIdentityProviderOptions options, string authority, SigningCredentials credentials)
    {
        var request = new DevTokenRequest { Issuer = authority, Audience = options.Audience, Lifetime = options.TokenLifetime };
        switch (form["grant_type"].ToString())
        {
            case "client_credentials":
                var (id, secret) = ClientCredentials(form, authorization);
                var client = options.Clients.FirstOrDefault(c => c.ClientId == id);
                if (client is null || !CryptographicEquals(client.Secret, secret))
                {
                    return TokenError(StatusCodes.Status401Unauthorized, "invalid_client", "unknown client or wrong secret");
                }

                request = request with { Workload = client.WorkloadId, Subject = client.WorkloadId, Amr = [] };
                break;

            case "password":
                var user = options.Users.FirstOrDefault(u => u.Name == form["username"].ToString());
                if (user is null || !CryptographicEquals(DevPassword, form["password"].ToString()))
                {
                    return TokenError(StatusCodes.Status400BadRequest, "invalid_grant", "unknown user or wrong password");
                }

                // The second factor is simulated: mfa=true stands for a completed one-time-code prompt.
                var mfa = string.Equals(form["mfa"], "true", StringComparison.OrdinalIgnoreCase);
                request = request with
                {
                    Subject = user.Name,
                    Groups = user.Groups,
                    Roles = user.Roles,
                    Amr = DevLogin.AmrOf(mfa),
                    AuthAge = TimeSpan.Zero,
                };
                break;

            default:
                return TokenError(StatusCodes.Status400BadRequest, "unsupported_grant_type", "use authorization_code, client_credentials or password");
        }

        var token = DevTokens.Mint(request, credentials, options.TimeProvider);
        return Results.Json(new Dictionary<string, object>
        {
            ["access_token"] = token,
            ["token_type"] = "Bearer",
            ["expires_in"] = (int)options.TokenLifetime.TotalSeconds,
        });
    }

    /// <summary>The client id and secret of a token request: <c>client_secret_basic</c> when present, else the form's.</summary>
    internal static (string Id, string Secret) ClientCredentials(IFormCollection form, string authorization)
    {
        if (authorization.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                var decoded = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(authorization[6..].Trim()));
                var colon = decoded.IndexOf(':', StringComparison.Ordinal);
                if (colon > 0)
                {
                    return (Uri.UnescapeDataString(decoded[..colon]), Uri.UnescapeDataString(decoded[(colon + 1)..]));
                }
            }
            catch (FormatException)
            {
            }
        }

        return (form["client_id"].ToString(), form["client_secret"].ToString());
    }

    internal static bool CryptographicEquals(string expected, string actual) =>
        System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
            System.Text.Encoding.UTF8.GetBytes(expected), System.Text.Encoding.UTF8.GetBytes(actual));

    internal static IResult TokenError(int status, string error, string description) =>
        Results.Json(new Dictionary<string, string> { ["error"] = error, ["error_description"] = description }, statusCode: status);

    private static string JwksOf(SigningCredentials credentials)
        => JsonWebKeySetWriter.Write([JsonWebKeySetWriter.PublicJwk(credentials.Key, credentials.Algorithm)]);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
    }
}
