namespace ZtGateway.Runtime;

/// <summary>
/// The one way this process builds an embedded web application (segment listeners, management, the
/// development identity provider): only our configuration decides what it binds and logs (ambient
/// ASPNETCORE_* settings do not), it takes no process signals, and Kestrel listens on exactly one address.
/// </summary>
internal static class EmbeddedWebApp
{
    /// <summary>A builder bound to <paramref name="listen"/>; <paramref name="endpoint"/> sets the endpoint's protocols and TLS.</summary>
    public static WebApplicationBuilder CreateBuilder(string name, string listen, ILoggerFactory loggerFactory, string? contentRoot = null,
        Action<Microsoft.AspNetCore.Server.Kestrel.Core.ListenOptions>? endpoint = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = name,
            ContentRootPath = contentRoot,
            EnvironmentName = Environments.Production,
        });
        builder.Configuration.Sources.Clear();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<IHostLifetime, EmbeddedLifetime>();
        builder.Services.AddSingleton(loggerFactory);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            ListenerEndpoint.Configure(kestrel, listen, endpoint);
        });
        return builder;
    }
}
