using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.IdentityModel.Tokens;
using Yarp.ReverseProxy.Configuration;

// The peer of the side-by-side benchmark: what a .NET team would build instead of the gateway. BareProxy plus
// ASP.NET Core's JwtBearer handler (RS256 against a JWKS file read at start, issuer, audience, lifetime) and an
// authorization policy on the route that requires `mfa` among the `amr` values; nothing else differs.
// Usage: JwtBearerProxy --urls http://127.0.0.1:8092 --upstream http://127.0.0.1:8070
//          --jwks keys/idp.jwks.json --issuer https://idp.example --audience api
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
string Required(string key) => builder.Configuration[key] is { Length: > 0 } value
    ? value
    : throw new InvalidOperationException($"--{key} is required");
var upstream = Required("upstream");
var signingKeys = new JsonWebKeySet(File.ReadAllText(Required("jwks"))).GetSigningKeys();
if (signingKeys.Count == 0)
{
    throw new InvalidOperationException("--jwks holds no signing key");
}

builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer(options =>
{
    // Keeps `amr` (and `sub`) under their JWT names instead of the WS-Federation claim type URIs.
    options.MapInboundClaims = false;
    options.RequireHttpsMetadata = false;
    options.TokenValidationParameters = new TokenValidationParameters
    {
        ValidIssuer = Required("issuer"),
        ValidAudience = Required("audience"),
        IssuerSigningKeys = signingKeys,
        ValidAlgorithms = [SecurityAlgorithms.RsaSha256],
        RequireSignedTokens = true,
        RequireExpirationTime = true,
    };
});

// A JSON array claim becomes one claim per value, so RequireClaim matches `mfa` wherever it is in `amr`.
builder.Services.AddAuthorizationBuilder()
    .AddPolicy("mfa", policy => policy.RequireAuthenticatedUser().RequireClaim("amr", "mfa"));
builder.Services.AddReverseProxy().LoadFromMemory(
    [new RouteConfig { RouteId = "all", ClusterId = "upstream", AuthorizationPolicy = "mfa", Match = new RouteMatch { Path = "/{**rest}" } }],
    [new ClusterConfig { ClusterId = "upstream", Destinations = new Dictionary<string, DestinationConfig> { ["d"] = new() { Address = upstream } } }]);
var app = builder.Build();
app.UseAuthentication();
app.UseAuthorization();
app.MapReverseProxy();
app.Run();
