using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ZtGateway.IntegrationTests.Infrastructure;

/// <summary>
/// A real <c>redis-server</c> (Debian's package; <c>.ci/run</c> installs it) on 127.0.0.1 and a free port, with no
/// persistence and its own folder, so a test can stop it, start it again empty, or write hostile records into it.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private readonly string _directory;
    private Process? _process;

    private RedisServer(int port, string directory)
    {
        Port = port;
        _directory = directory;
    }

    public int Port { get; }

    /// <summary>The StackExchange.Redis configuration string of this server.</summary>
    public string Configuration => $"127.0.0.1:{Port}";

    /// <summary>True when a <c>redis-server</c> executable is on the PATH.</summary>
    public static bool IsInstalled => FindExecutable() is not null;

    public static async Task<RedisServer> StartAsync()
    {
        var server = new RedisServer(FreePort(), System.IO.Directory.CreateTempSubdirectory("ztgw-redis-").FullName);
        await server.RestartAsync();
        return server;
    }

    /// <summary>Starts the server again on the same port; it comes back empty (no persistence).</summary>
    public async Task RestartAsync()
    {
        await StopAsync();
        var executable = FindExecutable()
            ?? throw new InvalidOperationException("redis-server is not installed (apt-get install redis-server); .ci/run installs it");
        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = _directory,
        };
        foreach (var arg in new[]
        {
            "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--dir", _directory, "--protected-mode", "yes", "--daemonize", "no",
        })
        {
            start.ArgumentList.Add(arg);
        }

        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"redis-server exited with {_process.ExitCode} on port {Port}");
            }

            if (await TryCommandAsync("PING") == "+PONG")
            {
                return;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"redis-server did not answer PING on port {Port} within 20 s");
    }

    /// <summary>Kills the server (as a crash would); clients see the connection drop.</summary>
    public async Task StopAsync()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        _process?.Dispose();
        _process = null;
    }

    /// <summary>Sends one command in the inline protocol and returns the first line of the answer, or null.</summary>
    public async Task<string?> TryCommandAsync(string inline)
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, Port);
            var stream = client.GetStream();
            await stream.WriteAsync(Encoding.UTF8.GetBytes(inline + "\r\n"));
            var buffer = new byte[4096];
            var read = await stream.ReadAsync(buffer);
            var text = Encoding.UTF8.GetString(buffer, 0, read);
            var end = text.IndexOf("\r\n", StringComparison.Ordinal);
            return end < 0 ? text : text[..end];
        }
        catch (SocketException)
        {
            return null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try
        {
            System.IO.Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // best effort
        }
    }

    private static string? FindExecutable()
    {
        foreach (var folder in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator).Append("/usr/bin").Append("/usr/sbin"))
        {
            var candidate = Path.Combine(folder, "redis-server");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
