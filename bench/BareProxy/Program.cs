using Yarp.ReverseProxy.Configuration;

// The baseline of the side-by-side benchmark: YARP with its default forwarder, no authentication,
// one catch-all route to one upstream. Usage: BareProxy --urls http://127.0.0.1:8090 --upstream http://127.0.0.1:8070
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
var upstream = builder.Configuration["upstream"] ?? throw new InvalidOperationException("--upstream URL is required");
builder.Services.AddReverseProxy().LoadFromMemory(
    [new RouteConfig { RouteId = "all", ClusterId = "upstream", Match = new RouteMatch { Path = "/{**rest}" } }],
    [new ClusterConfig { ClusterId = "upstream", Destinations = new Dictionary<string, DestinationConfig> { ["d"] = new() { Address = upstream } } }]);
var app = builder.Build();
app.MapReverseProxy();
app.Run();
