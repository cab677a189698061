using System.Diagnostics;
using ZtGateway.IntegrationTests.Infrastructure;

namespace ZtGateway.IntegrationTests.Hosting;

/// <summary>The real <c>ztgw</c> process: it serves until SIGTERM (what <c>docker stop</c> sends), then stops in order.</summary>
public sealed class ProcessTests : IDisposable
{
    private readonly TestIdentity _identity = new();

    public void Dispose() => _identity.Dispose();

    [Fact]
    public async Task Run_StopsOnSigterm_WithExitCodeZero()
    {
        var directory = TestGateway.CreateConfig(_identity, new Dictionary<string, string> { ["finance"] = ZtgwProcess.FinanceSegment });
        using var process = ZtgwProcess.Start("run", "--config", Path.Combine(directory, "gateway.yaml"));
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            string? line;
            do
            {
                line = await process.StandardOutput.ReadLineAsync(timeout.Token);
            }
            while (line is not null && !line.StartsWith("segment finance on http://127.0.0.1:", StringComparison.Ordinal));

            Assert.NotNull(line);
            using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync(timeout.Token);
            }

            await process.WaitForExitAsync(timeout.Token);
            Assert.Equal(0, process.ExitCode);
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

    [Theory]
    [InlineData("keys/idp.jwks.json")]
    [InlineData("keys/posture.jwks.json")]
    [InlineData("keys/gateway-signing.pem")]
    public async Task Run_WithAMissingKeyFile_RefusesToStart_AndWritesNoKey(string missing)
    {
        var directory = TestGateway.CreateConfig(_identity, new Dictionary<string, string> { ["finance"] = ZtgwProcess.FinanceSegment });
        try
        {
            File.Delete(Path.Combine(directory, missing));
            var keysBefore = Directory.GetFiles(Path.Combine(directory, "keys")).Order().ToArray();
            using var process = ZtgwProcess.Start("run", "--config", Path.Combine(directory, "gateway.yaml"));
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
            var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
            await process.WaitForExitAsync(timeout.Token);

            Assert.Equal(1, process.ExitCode);
            Assert.Contains($"'{missing}' does not exist", await stderr, StringComparison.Ordinal);
            Assert.Contains("gateway.yaml:", await stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("listening", await stdout + await stderr, StringComparison.OrdinalIgnoreCase);
            Assert.Equal(keysBefore, Directory.GetFiles(Path.Combine(directory, "keys")).Order().ToArray());
            Assert.False(File.Exists(Path.Combine(directory, missing)));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
