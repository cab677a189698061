using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using ZtGateway.Enforcement.Model;
using ZtGateway.Runtime;
using ZtGateway.Sources.Continuous;
using ZtGateway.Sources.Signals;
using ZtGateway.Telemetry;

namespace ZtGateway.Management;

/// <summary>
/// The management listener (<c>gateway.management.listen</c>, loopback by default): health, readiness,
/// metrics, the admin API and the signal receiver. It is its own Kestrel server: no segment listener
/// knows these paths, so they cannot be reached through one.
/// </summary>
internal sealed class ManagementListener : IAsyncDisposable
{
    private readonly WebApplication _app;

    private ManagementListener(WebApplication app) => _app = app;

    /// <summary>The address Kestrel actually bound (port 0 resolved).</summary>
    public Uri? Address { get; private set; }

    public static ManagementListener Create(string listen, GatewayStateHolder state, IGatewayStatus status, TimeProvider timeProvider,
        ILoggerFactory loggerFactory, string contentRoot, GatewayTelemetry telemetry, ContinuousEvaluation continuous, SignalReceiver signals)
    {
        var builder = EmbeddedWebApp.CreateBuilder("ztgw-management", listen, loggerFactory, contentRoot);
        builder.Services.AddSingleton(state);
        builder.Services.AddSingleton(status);
        builder.Services.AddSingleton(timeProvider);
        builder.Services.AddSingleton(telemetry);
        builder.Services.AddSingleton(UntracedListener.Instance);
        builder.Services.AddSingleton(continuous);
        builder.Services.AddSingleton(signals);

        var app = builder.Build();
        HealthEndpoints.Map(app);
        PolicyEndpoints.Map(app);
        MetricsEndpoints.Map(app);
        SignalEndpoints.Map(app);
        QuarantineEndpoints.Map(app);
        BackChannelLogoutEndpoints.Map(app);
        DevicePostureEndpoints.Map(app);
        return new ManagementListener(app);
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await _app.StartAsync(cancellationToken);
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
        Address = address is null ? null : new Uri(address);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
    }
}
