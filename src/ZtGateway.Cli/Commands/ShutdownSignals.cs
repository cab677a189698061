using System.Runtime.InteropServices;

namespace ZtGateway.Cli;

/// <summary>
/// Turns SIGTERM, SIGINT and SIGQUIT into cancellation for the long-running verbs (<c>run</c>, <c>demo</c>,
/// <c>dev idp</c>), so <c>docker stop</c> and Ctrl+C shut the gateway down in order instead of being ignored.
/// A verb that passes a hangup action also takes SIGHUP, as a request to reopen its files (logrotate's
/// <c>postrotate</c>), not to stop; without one SIGHUP keeps its default and ends the process.
/// </summary>
internal sealed class ShutdownSignals : IDisposable
{
    private readonly CancellationTokenSource _stop;
    private readonly PosixSignalRegistration[] _registrations;
    private readonly Action? _hangup;

    /// <param name="outer">Also stops the wait.</param>
    /// <param name="hangup">Run on every SIGHUP, which then no longer ends the process; null keeps the default.</param>
    public ShutdownSignals(CancellationToken outer, Action? hangup = null)
    {
        _stop = CancellationTokenSource.CreateLinkedTokenSource(outer);
        _hangup = hangup;
        _registrations =
        [
            PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle),
            PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle),
            PosixSignalRegistration.Create(PosixSignal.SIGQUIT, Handle),
            .. hangup is null ? Array.Empty<PosixSignalRegistration>() : [PosixSignalRegistration.Create(PosixSignal.SIGHUP, HandleHangup)],
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

    private void HandleHangup(PosixSignalContext context)
    {
        context.Cancel = true;
        _hangup!();
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
