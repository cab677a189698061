using System.CommandLine;
using ZtGateway.DevTools.Demo;
using ZtGateway.Hosting;

namespace ZtGateway.Cli;

/// <summary>
/// <c>ztgw demo [--once] [--dynamic-ports] [--redis CONFIG]</c>: a whole zero-trust network in one process, one gateway per
/// segment sharing state, and an attack story played against it.
/// </summary>
internal static class DemoCommand
{
    public static Command Create(TextWriter output, TextWriter errors)
    {
        var once = new Option<bool>("--once") { Description = "Play the story and exit: 0 only if every step got its expected answer" };
        var dynamicPorts = new Option<bool>("--dynamic-ports") { Description = "Listen on free ports instead of 5556, 8081-8083, 9090-9092, 7101-7103" };
        var redis = new Option<string?>("--redis")
        {
            Description = "Share the gateways' state through this Redis (a StackExchange.Redis configuration string) instead of an embedded Garnet server",
        };
        var command = new Command("demo",
            "Run the sample network (identity provider, three segments each behind its own gateway, the gateways sharing state, sample services) and play a lateral-movement story")
        {
            once, dynamicPorts, redis,
        };
        command.SetAction(async (parse, outerToken) =>
        {
            using var signals = new ShutdownSignals(outerToken);
            var cancellationToken = signals.Token;
            using var logging = ConsoleLogging.Create(LogLevel.Error);
            DemoNetwork network;
            try
            {
                network = await DemoNetwork.StartAsync(!parse.GetValue(dynamicPorts), parse.GetValue(redis), logging, cancellationToken);
            }
            catch (Exception ex) when (ex is IOException or InvalidOperationException or System.Net.Sockets.SocketException)
            {
                await errors.WriteLineAsync("ztgw demo: cannot start the demo network: " + ex.Message);
                await errors.WriteLineAsync(ex.Message.Contains("gateway.sharedState", StringComparison.Ordinal)
                    ? "(check --redis: its configuration string, and that its Redis answers)"
                    : "(another process may hold the demo ports; try --dynamic-ports)");
                return ExitCodes.PolicyProblem;
            }

            await using (network)
            {
                await output.WriteLineAsync("ZtGateway demo: finance, hr and engineering segments, one gateway each, sharing their state (revocations,");
                await output.WriteLineAsync($"quarantines, signal ids, detection windows) through {network.Store.Description} (prefix {network.Prefix}).");
                foreach (var segment in DemoConfig.Segments)
                {
                    await output.WriteLineAsync(
                        $"  {segment,-12} {network.Segment(segment),-24} management {network.Management(segment),-24} audit {DemoConfig.AuditFile(segment)}");
                }

                await output.WriteLineAsync($"policy: {network.Directory}/gateway-{{{string.Join(',', DemoConfig.Segments)}}}.yaml over segments/");
                await output.WriteLineAsync();
                var (connected, detail) = await network.WaitForSharedStateAsync(TimeSpan.FromSeconds(5), cancellationToken);
                if (!connected)
                {
                    await errors.WriteLineAsync($"ztgw demo: the shared state is not reachable ({detail}); the steps that need it will fail");
                }

                using var story = new AttackStory(network, TimeProvider.System);
                var steps = new List<StoryStep>();
                await output.WriteLineAsync($"{"#",-2} {"who",-40} {"does what",-44} {"at",-23} {"expected",-26} {"got",-26}");
                await foreach (var step in story.PlayAsync(cancellationToken))
                {
                    steps.Add(step);
                    await output.WriteLineAsync(
                        $"{steps.Count,-2} {step.Actor,-40} {step.Action,-44} {step.At,-23} {step.Expected,-26} {step.Got,-26} {(step.Passed ? "ok" : "UNEXPECTED")}");
                }

                var failed = steps.Count(s => !s.Passed);
                await output.WriteLineAsync();
                await output.WriteLineAsync($"{steps.Count - failed} passed, {failed} failed");
                if (parse.GetValue(once))
                {
                    return failed == 0 ? ExitCodes.Success : ExitCodes.PolicyProblem;
                }

                await output.WriteLineAsync($"""

                    The network keeps running; try it yourself (Ctrl+C to stop):
                      ALICE='{story.AliceToken}'
                      LAPTOP='{story.AliceLaptop}'
                      curl -s {network.Segment("finance")}ledger/2026 -H "Authorization: Bearer $ALICE" -H "X-Device-Posture: $LAPTOP"
                      curl -s {network.Segment("hr")}payroll/alice -H "Authorization: Bearer $ALICE" -H "X-Device-Posture: $LAPTOP"
                      curl -s {network.IdentityProvider.Authority}/token -d grant_type=password -d username=harry -d password=dev -d mfa=true
                      curl -s {network.Management("finance")}readyz
                      curl -s {network.Management("hr")}readyz
                      curl -s {network.Management("engineering")}readyz
                      tail -f {string.Join(' ', DemoConfig.Segments.Select(network.AuditPath))}
                    """);
                await signals.WaitAsync();

                return failed == 0 ? ExitCodes.Success : ExitCodes.PolicyProblem;
            }
        });
        return command;
    }
}
