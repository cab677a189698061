using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging.Abstractions;
using ZtGateway.Cli;
using ZtGateway.Hosting;
using ZtGateway.IntegrationTests.Infrastructure;

namespace ZtGateway.IntegrationTests.Continuous;

/// <summary>`ztgw dev signal` against the shipped sample config: what a newcomer pipes into curl works.</summary>
public sealed class DevSignalTests
{
    private static async Task<string> Ztgw(params string[] args)
    {
        var output = new StringWriter();
        var errors = new StringWriter();
        var exit = await ZtgwCommand.InvokeAsync(args, output, errors);
        Assert.True(exit == 0, errors.ToString());
        return output.ToString();
    }

    [Fact]
    public async Task DevSignal_FromTheSampleConfig_RevokesAndQuarantinesThroughTheManagementListener()
    {
        var directory = RepositoryFiles.CopyOfSampleConfig();
        var config = Path.Combine(directory, "gateway.yaml");
        try
        {
            await Ztgw("dev", "keys", "--config", config);
            var token = (await Ztgw("dev", "token", "--config", config, "--sub", "alice", "--groups", "finance-staff", "--amr", "pwd,mfa", "--auth-age", "10m")).Trim();
            var posture = (await Ztgw("dev", "posture", "--config", config, "--device", "laptop-7", "--segment", "finance", "--compliant", "--managed", "--user", "alice")).Trim();

            await using var ledger = await EchoUpstream.StartAsync("ledger");
            foreach (var file in Directory.GetFiles(directory, "*.yaml", SearchOption.AllDirectories))
            {
                var text = await File.ReadAllTextAsync(file);
                text = Regex.Replace(text, @"listen: http://127\.0\.0\.1:\d+", "listen: http://127.0.0.1:0");
                await File.WriteAllTextAsync(file, text.Replace("http://127.0.0.1:7101", ledger.Url, StringComparison.Ordinal));
            }

            var (host, diagnostics) = await GatewayHost.StartAsync(new GatewayHostOptions
            {
                ConfigPath = config, WatchForChanges = false, LoggerFactory = NullLoggerFactory.Instance,
            });
            Assert.True(host is not null, string.Join('\n', diagnostics.Select(d => d.Format())));
            await using (host)
            {
                using var finance = new HttpClient { BaseAddress = host.Listeners["finance"] };
                using var management = new HttpClient { BaseAddress = host.ManagementAddress };
                async Task<Problem> Ledger() => await Problem.SendAsync(finance, HttpMethod.Get, "/ledger/2026", token, r => r.Headers.Add("X-Device-Posture", posture));
                async Task<HttpStatusCode> Push(string set)
                {
                    // As curl --data-binary sends it: with the trailing newline of the command's output.
                    using var content = new StringContent(set, Encoding.ASCII);
                    content.Headers.ContentType = new MediaTypeHeaderValue("application/secevent+jwt");
                    using var response = await management.PostAsync("/ssf/events", content);
                    return response.StatusCode;
                }

                Assert.Equal(HttpStatusCode.OK, (await Ledger()).Status);

                Assert.Equal(HttpStatusCode.Accepted,
                    await Push(await Ztgw("dev", "signal", "--config", config, "--event", "device-compliance-change", "--device", "laptop-7", "--status", "not-compliant")));
                Assert.Equal("device-quarantined", (await Ledger()).Reason);

                Assert.Equal(HttpStatusCode.Accepted,
                    await Push(await Ztgw("dev", "signal", "--config", config, "--event", "device-compliance-change", "--device", "laptop-7", "--status", "compliant")));
                Assert.Equal(HttpStatusCode.OK, (await Ledger()).Status);

                // The token was minted in this second or earlier: a revocation now covers it.
                Assert.Equal(HttpStatusCode.Accepted, await Push(await Ztgw("dev", "signal", "--config", config, "--event", "session-revoked", "--sub", "alice")));
                Assert.Equal("token-revoked", (await Ledger()).Reason);
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Theory]
    [InlineData("--event", "session-revoked")]
    [InlineData("--event", "device-compliance-change", "--device", "laptop-7")]
    [InlineData("--event", "coffee-spilled", "--sub", "alice")]
    public async Task DevSignal_WithoutWhatTheEventNeeds_IsAUsageError(params string[] args)
    {
        var errors = new StringWriter();

        var exit = await ZtgwCommand.InvokeAsync(["dev", "signal", "--config", RepositoryFiles.PathOf("config", "gateway.yaml"), .. args], new StringWriter(), errors);

        Assert.Equal(ExitCodes.Usage, exit);
        Assert.NotEmpty(errors.ToString());
    }
}
