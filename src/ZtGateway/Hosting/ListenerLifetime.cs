namespace ZtGateway.Hosting;

/// <summary>
/// The lifetime of a listener's WebApplication: it ignores the process's signals. The default console lifetime
/// would swallow SIGTERM and Ctrl+C to stop just its own application, which the gateway never awaits, so
/// `docker stop` would hang; instead the `run` command is cancelled and disposes every listener itself.
/// </summary>
internal sealed class ListenerLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
