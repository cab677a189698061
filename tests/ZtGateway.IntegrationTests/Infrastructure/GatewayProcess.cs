using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace ZtGateway.IntegrationTests.Infrastructure;

/// <summary>A real <c>ztgw run</c> process, its listener read from what it prints, stopped by a signal as an init system would.</summary>
public sealed class GatewayProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _errors = new();

    private GatewayProcess(Process process) => _process = process;

    public Uri Listener { get; private set; } = null!;

    public IEnumerable<string> Errors => _errors;

    public bool HasExited => _process.HasExited;

    /// <summary>Starts <c>ztgw run --config CONFIG [--segment SEGMENT]</c> and waits until <paramref name="segment"/>'s listener is open.</summary>
    public static async Task<GatewayProcess> StartAsync(string configPath, string segment = "finance", bool onlyThisSegment = false)
    {
        string[] args = onlyThisSegment ? ["run", "--config", configPath, "--segment", segment] : ["run", "--config", configPath];
        var gateway = new GatewayProcess(ZtgwProcess.Start(args));
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        gateway._process.OutputDataReceived += (_, e) =>
        {
            var prefix = $"segment {segment} on ";
            if (e.Data?.StartsWith(prefix, StringComparison.Ordinal) == true)
            {
                listening.TrySetResult(new Uri(e.Data[prefix.Length..]));
            }
        };
        gateway._process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                gateway._errors.Enqueue(e.Data);
            }
        };
        gateway._process.BeginOutputReadLine();
        gateway._process.BeginErrorReadLine();
        try
        {
            gateway.Listener = await listening.Task.WaitAsync(TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException)
        {
            await gateway.DisposeAsync();
            throw new InvalidOperationException("ztgw run did not open its listener:\n" + string.Join('\n', gateway._errors));
        }

        return gateway;
    }

    public async Task SignalAsync(string signal)
    {
        using var kill = Process.Start("kill", ["-" + signal, _process.Id.ToString(CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
        Assert.Equal(0, kill.ExitCode);
    }

    /// <summary>SIGTERM, as <c>docker stop</c> sends it; returns the exit code.</summary>
    public async Task<int> StopAsync()
    {
        await SignalAsync("TERM");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _process.WaitForExitAsync(timeout.Token);
        return _process.ExitCode;
    }

    /// <summary>Waits, at most <paramref name="within"/>, for the process to end by itself (after a signal sent earlier); returns the exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan within)
    {
        using var timeout = new CancellationTokenSource(within);
        await _process.WaitForExitAsync(timeout.Token);
        return _process.ExitCode;
    }

    public ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(TimeSpan.FromSeconds(10));
        }

        _process.Dispose();
        return ValueTask.CompletedTask;
    }
}
