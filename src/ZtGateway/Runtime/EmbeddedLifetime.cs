namespace ZtGateway.Runtime;

/// <summary>
/// The lifetime of a web application embedded in the gateway process (segment listeners, management, the
/// development identity provider): it takes no process signals. The process as a whole stops on SIGTERM or
/// Ctrl+C through the command line, which then stops every embedded application in order.
/// </summary>
internal sealed class EmbeddedLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
