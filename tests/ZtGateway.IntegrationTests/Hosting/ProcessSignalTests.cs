using System.Diagnostics;
using ZtGateway.IntegrationTests.Infrastructure;

namespace ZtGateway.IntegrationTests.Hosting;

/// <summary>`ztgw run` as its own process stops on SIGTERM, as `docker stop` sends it, and closes its listeners.</summary>
public sealed class ProcessSignalTests : IDisposable
{
    private readonly TestIdentity _identity = new();

    public void Dispose() => _identity.Dispose();

    [Fact]
    public async Task Run_StopsOnSigterm()
    {
        Assert.True(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS(), "signals are POSIX");
        var directory = TestGateway.CreateConfig(_identity, new Dictionary<string, string>
        {
            ["finance"] = """
                segment: finance
                listen: http://127.0.0.1:0
                services:
                  ledger: { destinations: ["http://127.0.0.1:1"] }
                routes:
                  - id: ledger
                    match: { path: "/ledger/{**rest}" }
                    service: ledger
                    allow:
                      - { name: staff, from: [finance], users: { groups: [staff] } }
                """,
        });
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { Path.Combine(AppContext.BaseDirectory, "ztgw.dll"), "run", "--config", Path.Combine(directory, "gateway.yaml") },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        try
        {
            process.ErrorDataReceived += (_, _) => { };
            process.BeginErrorReadLine();
            using var started = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            string? line;
            do
            {
                line = await process.StandardOutput.ReadLineAsync(started.Token);
            }
            while (line is not null && !line.StartsWith("segment finance on ", StringComparison.Ordinal));

            Assert.NotNull(line);
            var listener = new Uri(line["segment finance on ".Length..]);

            using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync();
                Assert.Equal(0, kill.ExitCode);
            }

            using var stopped = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            await process.WaitForExitAsync(stopped.Token);

            Assert.True(process.HasExited);
            using var probe = new System.Net.Sockets.TcpClient();
            await Assert.ThrowsAnyAsync<System.Net.Sockets.SocketException>(() => probe.ConnectAsync(listener.Host, listener.Port));
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            Directory.Delete(directory, recursive: true);
        }
    }
}
