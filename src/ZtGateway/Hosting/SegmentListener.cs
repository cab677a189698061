using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Transforms;
using ZtGateway.Enforcement;
using ZtGateway.Enforcement.Exchanges;
using ZtGateway.Enforcement.Model;
using ZtGateway.Enforcement.Resilience;
using ZtGateway.Enforcement.SignIn;
using ZtGateway.Policy.Configuration;
using ZtGateway.Runtime;
using ZtGateway.Sources.Continuous;
using ZtGateway.Sources.Detection;
using ZtGateway.Telemetry;
using ZtGateway.Transport;

namespace ZtGateway.Hosting;

/// <summary>
/// One segment's own listener: a Kestrel server with its own container and its own YARP table, holding
/// only the clusters of that segment's services. A request can reach a segment's services only through
/// this listener, whatever its Host header says, because no other listener knows them.
/// </summary>
internal sealed class SegmentListener : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly InMemoryConfigProvider _proxyConfig;
    private readonly UpstreamResilienceOptions _resilience;
    private readonly UpstreamTlsRegistry _upstreamTls;

    private SegmentListener(string segment, WebApplication app, InMemoryConfigProvider proxyConfig, UpstreamResilienceOptions resilience,
        ListenerTransport transport, UpstreamTlsRegistry upstreamTls)
    {
        Segment = segment;
        _app = app;
        _proxyConfig = proxyConfig;
        _resilience = resilience;
        Transport = transport;
        _upstreamTls = upstreamTls;
    }

    public const string JwksPath = "/.well-known/ztgw/jwks.json";

    public string Segment { get; }

    /// <summary>The listener's protocols and TLS (its certificate in force, its client-certificate verification).</summary>
    public ListenerTransport Transport { get; }

    /// <summary>The addresses Kestrel actually bound (port 0 resolved).</summary>
    public IReadOnlyList<Uri> Addresses { get; private set; } = [];

    public static SegmentListener Create(SegmentConfig segment, GatewayStateHolder state, TimeProvider timeProvider, ILoggerFactory loggerFactory, string contentRoot,
        GatewayTelemetry telemetry, UpstreamResilienceOptions resilience, ContinuousEvaluation continuous, LateralMovementDetector detector,
        ExchangeRegistry exchanges, SignInContext? signIn = null)
    {
        var transport = ListenerTransport.Create(segment, state.Current.Policy.Gateway.Device.Certificates, timeProvider, loggerFactory);
        var upstreamTls = new UpstreamTlsRegistry(timeProvider, loggerFactory.CreateLogger("ZtGateway.Transport"));
        upstreamTls.Update(TlsServices(segment));
        var builder = EmbeddedWebApp.CreateBuilder("ztgw", segment.Listen, loggerFactory, contentRoot, transport.Configure);
        builder.Services.AddSingleton<Yarp.ReverseProxy.Forwarder.IForwarderHttpClientFactory>(new UpstreamHttpClientFactory(upstreamTls));
        builder.Services.AddSingleton(state);
        builder.Services.AddSingleton(timeProvider);
        builder.Services.AddSingleton(new SegmentIdentity(segment.Name));
        builder.Services.AddSingleton(telemetry);
        builder.Services.AddSingleton(new UpstreamResilience(resilience, timeProvider));
        builder.Services.AddSingleton(continuous);
        builder.Services.AddSingleton(detector);
        builder.Services.AddSingleton(exchanges);
        builder.Services.AddSingleton(transport);

        BrowserSignIn? browser = null;
        if (signIn is not null && segment.SignIn)
        {
            browser = new BrowserSignIn(signIn, segment.Name, timeProvider, loggerFactory.CreateLogger("ZtGateway.SignIn"));
            SignInSetup.Add(builder.Services, browser, state, timeProvider, loggerFactory.CreateLogger("ZtGateway.SignIn"));

            // The process's key ring, for the handler's state as for sessions: any replica finishes a sign-in another began.
            builder.Services.AddSingleton(signIn.Keys);
        }

        builder.Services.AddSingleton<Yarp.ReverseProxy.Health.IActiveHealthCheckPolicy, ProbeHealthPolicy>();
        builder.Services.AddReverseProxy()
            .LoadFromMemory([CatchAllRoute(segment.Name)], Clusters(segment, resilience))
            .AddTransforms(transforms => transforms
                .AddRequestTransform(OutboundHeaders.RemoveAuthorization)
                .AddRequestTransform(OutboundHeaders.RemoveGatewayCookies)
                .AddRequestTransform(GrpcForwarding.OverHttp2));

        var app = builder.Build();

        // Upstreams verify gateway assertions with these keys; they are public and need no token.
        app.MapGet(JwksPath, (GatewayStateHolder current) =>
            Results.Text(current.Current.Assertions.JwksJson, "application/jwk-set+json"));
        if (browser is not null)
        {
            var endpoints = ActivatorUtilities.CreateInstance<SignInEndpoints>(app.Services, browser);
            app.Use(endpoints.InvokeAsync);
        }

        app.MapReverseProxy(proxy =>
        {
            proxy.UseMiddleware<EnforcementMiddleware>();
            proxy.UseSessionAffinity();
            proxy.UseLoadBalancing();
            proxy.UseMiddleware<UpstreamResilienceMiddleware>();
            proxy.UsePassiveHealthChecks();
        });

        var provider = app.Services.GetRequiredService<InMemoryConfigProvider>();
        return new SegmentListener(segment.Name, app, provider, resilience, transport, upstreamTls);
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await _app.StartAsync(cancellationToken);
        var addresses = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        Addresses = [.. addresses.Select(a => new Uri(a.Replace("[::]", "[::1]", StringComparison.Ordinal).Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal)))];
    }

    /// <summary>Loads the clusters of a newly accepted policy for this segment, with their TLS.</summary>
    public void Update(SegmentConfig segment)
    {
        _upstreamTls.Update(TlsServices(segment));
        _proxyConfig.Update([CatchAllRoute(segment.Name)], Clusters(segment, _resilience));
    }

    /// <summary>Reads the TLS files of the listener and of its upstreams again where their content changed.</summary>
    public void RefreshTransport()
    {
        Transport.Refresh();
        _upstreamTls.Refresh();
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
    }

    // Route matching belongs to the policy engine (one implementation, shared with explain and test); YARP
    // only needs one route to enter its pipeline, and the enforcement stage reassigns the decided cluster.
    private static RouteConfig CatchAllRoute(string segment) => new()
    {
        RouteId = "ztgw-" + segment,
        ClusterId = ClusterIds.Unrouted,
        Match = new RouteMatch { Path = "/{**ztgw-path}" },
    };

    private static IEnumerable<(string ClusterId, ServiceConfig Service)> TlsServices(SegmentConfig segment) =>
        segment.Services.Values.Select(s => (ClusterIds.For(s.Name), s));

    private static List<ClusterConfig> Clusters(SegmentConfig segment, UpstreamResilienceOptions resilience)
    {
        var clusters = new List<ClusterConfig> { new() { ClusterId = ClusterIds.Unrouted } };
        foreach (var service in segment.Services.Values)
        {
            var destinations = new Dictionary<string, DestinationConfig>(StringComparer.Ordinal);
            for (var i = 0; i < service.Destinations.Count; i++)
            {
                destinations[service.Name + "-" + i] = new DestinationConfig { Address = service.Destinations[i] };
            }

            clusters.Add(new ClusterConfig
            {
                ClusterId = ClusterIds.For(service.Name),
                Destinations = destinations,
                LoadBalancingPolicy = "RoundRobin",
                HttpRequest = new Yarp.ReverseProxy.Forwarder.ForwarderRequestConfig { ActivityTimeout = resilience.Timeout },
                HealthCheck = new HealthCheckConfig
                {
                    Passive = new PassiveHealthCheckConfig { Enabled = true, ReactivationPeriod = TimeSpan.FromSeconds(10) },
                    Active = service.HealthCheck is null ? null : new ActiveHealthCheckConfig
                    {
                        Enabled = true,
                        Path = service.HealthCheck,
                        Interval = TimeSpan.FromSeconds(5),
                        Timeout = TimeSpan.FromSeconds(2),
                        Policy = ProbeHealthPolicy.PolicyName,
                    },
                },
            });
        }

        return clusters;
    }
}
