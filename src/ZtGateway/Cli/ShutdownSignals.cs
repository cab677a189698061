using System.Runtime.InteropServices;

namespace ZtGateway.Cli;

/// <summary>
/// Turns SIGTERM, SIGINT and SIGQUIT into cancellation for the long-running verbs (<c>run</c>, <c>demo</c>,
/// <c>dev idp</c>), so <c>docker stop</c> and Ctrl+C shut the gateway down in order instead of being ignored.
/// </summary>
internal sealed class ShutdownSignals : IDisposable
{
    private readonly CancellationTokenSource _stop;
    private readonly PosixSignalRegistration[] _registrations;

    public ShutdownSignals(CancellationToken outer)
    {
        _stop = CancellationTokenSource.CreateLinkedTokenSource(outer);
        _registrations =
        [
            PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle),
            PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle),
            PosixSignalRegistration.Create(PosixSignal.SIGQUIT, Handle),
        ];
    }

    public CancellationToken Token => _stop.Token;

    /// <summary>Waits until a signal (or the outer token) asks the process to stop.</summary>
    public async Task WaitAsync()
    {
        try
        {
            await Task.Delay(Timeout.Infinite, _stop.Token);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void Handle(PosixSignalContext context)
    {
        // Keep the process alive until the listeners have been stopped in order.
        context.Cancel = true;
        _stop.Cancel();
    }

    public void Dispose()
    {
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }

        _stop.Dispose();
    }
}
