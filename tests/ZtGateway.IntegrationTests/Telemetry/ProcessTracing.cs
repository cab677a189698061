namespace ZtGateway.IntegrationTests.Telemetry;

/// <summary>
/// The tests whose gateways export spans, and those that prove what an untraced gateway does. A tracer provider listens
/// to every ASP.NET Core server and HttpClient of the process, so the two kinds never run at the same time.
/// </summary>
[CollectionDefinition(Name)]
public sealed class ProcessTracing
{
    public const string Name = "process-wide tracing";
}
