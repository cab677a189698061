using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace ZtGateway.IntegrationTests.Infrastructure;

/// <summary>
/// An authority shaped like Microsoft Entra ID on 127.0.0.1: tenant-specific discovery at
/// <c>/{tenantId}/v2.0/.well-known/openid-configuration</c>, issuer <c>{instance}{tenantId}/v2.0</c>, a key
/// set whose keys announce their issuer (with the <c>{tenantid}</c> placeholder, as Entra does) and cloud
/// instance, and access tokens for apps (<c>idtyp: app</c>, <c>roles</c>) and users, shaped as a tenant
/// configured for the gateway issues them (see the Entra ID section of docs/guide.md).
/// </summary>
public sealed class EntraAuthority : IAsyncDisposable
{
    public const string TenantId = "11111111-2222-3333-4444-555555555555";
    public const string OtherTenantId = "99999999-8888-7777-6666-555555555555";
    public const string Audience = "api://ztgw";
    public const string CloudInstance = "microsoftonline.com";

    private readonly RSA _rsa = RSA.Create(2048);
    private readonly RsaSecurityKey _key;
    private WebApplication? _app;

    private EntraAuthority()
    {
        _key = new RsaSecurityKey(_rsa) { KeyId = "entra-key-" + Guid.NewGuid().ToString("N")[..8] };
    }

    /// <summary>The cloud instance, what an operator sets as <c>instance</c>.</summary>
    public string Instance { get; private set; } = string.Empty;

    public string Issuer => Instance + TenantId + "/v2.0";

    public string V1Issuer => $"https://sts.windows.net/{TenantId}/";

    /// <summary>The tenant the signing key is announced for: <c>{tenantid}</c> (whichever tenant the token names), as Entra does.</summary>
    public string KeyIssuerTenant { get; private init; } = "{tenantid}";

    /// <param name="keyIssuerTenant">Announce the signing key for this tenant instead of the <c>{tenantid}</c> placeholder.</param>
    public static async Task<EntraAuthority> StartAsync(string? keyIssuerTenant = null)
    {
        var authority = new EntraAuthority { KeyIssuerTenant = keyIssuerTenant ?? "{tenantid}" };
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.MapGet("/{tenant}/v2.0/.well-known/openid-configuration", (string tenant) => tenant == TenantId
            ? Results.Json(new Dictionary<string, object>
            {
                ["issuer"] = authority.Issuer,
                ["jwks_uri"] = authority.Instance + TenantId + "/discovery/v2.0/keys",
                ["authorization_endpoint"] = authority.Instance + TenantId + "/oauth2/v2.0/authorize",
                ["token_endpoint"] = authority.Instance + TenantId + "/oauth2/v2.0/token",
                ["id_token_signing_alg_values_supported"] = new[] { "RS256" },
                ["tenant_region_scope"] = "EU",
                ["cloud_instance_name"] = CloudInstance,
            })
            : Results.NotFound());
        app.MapGet("/{tenant}/discovery/v2.0/keys", (string tenant) => tenant == TenantId ? Results.Text(authority.Jwks(), "application/json") : Results.NotFound());
        await app.StartAsync();
        authority._app = app;
        authority.Instance = app.Urls.First().TrimEnd('/') + "/";
        return authority;
    }

    /// <summary>An app-only token (client credentials) of the app <paramref name="appId"/>.</summary>
    public string AppToken(DateTimeOffset now, string appId, string[] roles, string? issuer = null, string? tenantId = null, string? audience = null)
    {
        var objectId = Guid.NewGuid().ToString();
        return Sign(now, issuer ?? Issuer, audience ?? Audience, new Dictionary<string, object>
        {
            ["sub"] = objectId,
            ["oid"] = objectId,
            ["azp"] = appId,
            ["azpacr"] = "1",
            ["idtyp"] = "app",
            ["roles"] = roles,
            ["tid"] = tenantId ?? TenantId,
            ["ver"] = "2.0",
        });
    }

    /// <summary>
    /// A delegated token of a user signed in to the client <paramref name="clientId"/>. Version 1.0 (the
    /// API's <c>accessTokenAcceptedVersion</c> left at 1) carries <c>amr</c>; 2.0 tokens do not. Both carry
    /// <c>auth_time</c> and <c>groups</c> only as configured optional claims, which this tenant has.
    /// </summary>
    public string UserToken(DateTimeOffset now, string name, string clientId, string[] groups, string[] amr, string version = "1.0", TimeSpan? authAge = null)
    {
        var claims = new Dictionary<string, object>
        {
            ["sub"] = "pairwise-" + name,
            ["oid"] = Guid.NewGuid().ToString(),
            ["groups"] = groups,
            ["auth_time"] = (now - (authAge ?? TimeSpan.FromMinutes(10))).ToUnixTimeSeconds(),
            ["scp"] = "Ledger.Read",
            ["tid"] = TenantId,
            ["ver"] = version,
        };
        if (version == "1.0")
        {
            claims["appid"] = clientId;
            claims["amr"] = amr;
            claims["upn"] = name + "@corp.example";
        }
        else
        {
            claims["azp"] = clientId;
            claims["preferred_username"] = name + "@corp.example";
            claims["sid"] = Guid.NewGuid().ToString();
        }

        return Sign(now, version == "1.0" ? V1Issuer : Issuer, Audience, claims);
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        _rsa.Dispose();
    }

    private string Sign(DateTimeOffset now, string issuer, string audience, Dictionary<string, object> claims)
    {
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = now.AddHours(1).UtcDateTime,
            Claims = claims,
            SigningCredentials = new SigningCredentials(_key, SecurityAlgorithms.RsaSha256),
        };
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(descriptor);
    }

    private string Jwks()
    {
        var parameters = _rsa.ExportParameters(false);
        return JsonSerializer.Serialize(new
        {
            keys = new[]
            {
                new Dictionary<string, string>
                {
                    ["kty"] = "RSA",
                    ["use"] = "sig",
                    ["kid"] = _key.KeyId,
                    ["n"] = Base64UrlEncoder.Encode(parameters.Modulus),
                    ["e"] = Base64UrlEncoder.Encode(parameters.Exponent),
                    ["issuer"] = Instance + KeyIssuerTenant + "/v2.0",
                    ["cloud_instance_name"] = CloudInstance,
                },
            },
        });
    }
}
