using ZtGateway.Dev;
using ZtGateway.Policy.Configuration;

namespace ZtGateway.Hosting;

/// <summary>
/// Creates key files that the config names and that do not exist, so the sample runs on a fresh clone.
/// Every key made here is announced as development-only: a real deployment brings its own JWKS.
/// </summary>
internal static partial class DevKeyBootstrap
{
    public static void EnsureKeys(GatewayConfig gateway, ILogger logger)
    {
        foreach (var issuer in gateway.Identity.Issuers)
        {
            if (issuer.Type == IssuerType.Jwks && issuer.JwksFile is { } jwks && !File.Exists(jwks))
            {
                DevKeys.CreateRsa(DevKeys.PrivateKeyPathFor(jwks), jwks, overwrite: false);
                Log.Created(logger, jwks);
            }
        }

        foreach (var source in gateway.Device.Issuers.Concat(gateway.Signals.Transmitters))
        {
            if (source.JwksFile is { } jwks && !File.Exists(jwks))
            {
                DevKeys.CreateEc(DevKeys.PrivateKeyPathFor(jwks), jwks, overwrite: false);
                Log.Created(logger, jwks);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 110, Level = LogLevel.Warning,
            Message = "Created development key set {Path} with its private key beside it: for development only, never trust it in production")]
        public static partial void Created(ILogger logger, string path);
    }
}
