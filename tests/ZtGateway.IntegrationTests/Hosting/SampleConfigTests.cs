using System.Net;
using ZtGateway.Cli;
using ZtGateway.IntegrationTests.Infrastructure;

namespace ZtGateway.IntegrationTests.Hosting;

/// <summary>The shipped sample config is valid, and works with the dev commands a newcomer runs.</summary>
public sealed class SampleConfigTests
{
    [Fact]
    public async Task ShippedConfig_Validates_OnceItsDevelopmentKeysExist()
    {
        var directory = RepositoryFiles.CopyOfSampleConfig();
        var config = Path.Combine(directory, "gateway.yaml");
        try
        {
            // A fresh clone has no keys: validate says which file is missing, at the line that names it.
            var before = new StringWriter();
            Assert.Equal(1, await ZtgwCommand.InvokeAsync(["validate", "--config", config], new StringWriter(), before));
            var line = Array.FindIndex(File.ReadAllLines(config), l => l.Contains("jwksFile: keys/idp.jwks.json", StringComparison.Ordinal)) + 1;
            Assert.Contains($"gateway.yaml:{line}:", before.ToString(), StringComparison.Ordinal);
            Assert.Contains("jwksFile 'keys/idp.jwks.json' does not exist", before.ToString(), StringComparison.Ordinal);

            Assert.Equal(0, await ZtgwCommand.InvokeAsync(["dev", "keys", "--config", config], new StringWriter(), new StringWriter()));
            var stdout = new StringWriter();
            var stderr = new StringWriter();
            var exit = await ZtgwCommand.InvokeAsync(["validate", "--config", config], stdout, stderr);

            Assert.True(exit == 0, stderr.ToString());
            Assert.Contains("valid (3 segments", stdout.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task DevKeys_ThenDevTokenAndPosture_MintCredentialsTheGatewayAccepts()
    {
        var directory = RepositoryFiles.CopyOfSampleConfig();
        var config = Path.Combine(directory, "gateway.yaml");
        try
        {
            Assert.Equal(0, await ZtgwCommand.InvokeAsync(["dev", "keys", "--config", config], new StringWriter(), new StringWriter()));
            var token = new StringWriter();
            Assert.Equal(0, await ZtgwCommand.InvokeAsync(
                ["dev", "token", "--config", config, "--sub", "alice", "--groups", "finance-staff", "--amr", "pwd,mfa", "--auth-age", "10m"], token, new StringWriter()));
            var posture = new StringWriter();
            Assert.Equal(0, await ZtgwCommand.InvokeAsync(
                ["dev", "posture", "--config", config, "--device", "laptop-7", "--segment", "finance", "--compliant", "--managed", "--risk", "low", "--user", "alice"], posture, new StringWriter()));

            // Point the sample at loopback ports of our own, then ask the real gateway.
            await using var ledger = await EchoUpstream.StartAsync("ledger");
            var gatewayFile = Path.Combine(directory, "gateway.yaml");
            await File.WriteAllTextAsync(gatewayFile, (await File.ReadAllTextAsync(gatewayFile)).Replace("listen: http://127.0.0.1:9090", "listen: http://127.0.0.1:0", StringComparison.Ordinal));
            foreach (var file in Directory.GetFiles(Path.Combine(directory, "segments")))
            {
                var text = await File.ReadAllTextAsync(file);
                text = System.Text.RegularExpressions.Regex.Replace(text, @"listen: http://127\.0\.0\.1:\d+", "listen: http://127.0.0.1:0");
                await File.WriteAllTextAsync(file, text.Replace("http://127.0.0.1:7101", ledger.Url, StringComparison.Ordinal));
            }

            var (host, diagnostics) = await ZtGateway.Hosting.GatewayHost.StartAsync(new ZtGateway.Hosting.GatewayHostOptions
            {
                ConfigPath = config,
                WatchForChanges = false,
                LoggerFactory = Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance,
            });
            Assert.True(host is not null, string.Join('\n', diagnostics.Select(d => d.Format())));
            await using (host)
            {
                using var client = new HttpClient { BaseAddress = host.Listeners["finance"] };
                var answer = await Problem.SendAsync(client, HttpMethod.Get, "/ledger/2026", token.ToString().Trim(),
                    r => r.Headers.Add("X-Device-Posture", posture.ToString().Trim()));
                Assert.Equal(HttpStatusCode.OK, answer.Status);

                using var hr = new HttpClient { BaseAddress = host.Listeners["hr"] };
                var lateral = await Problem.SendAsync(hr, HttpMethod.Get, "/payroll/alice", token.ToString().Trim(),
                    r => r.Headers.Add("X-Device-Posture", posture.ToString().Trim()));
                Assert.Equal("segment-not-allowed", lateral.Reason);
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
