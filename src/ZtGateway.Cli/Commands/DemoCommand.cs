using System.CommandLine;
using ZtGateway.DevTools.Demo;
using ZtGateway.Hosting;

namespace ZtGateway.Cli;

/// <summary><c>ztgw demo [--once]</c>: a whole zero-trust network in one process, and an attack story played against it.</summary>
internal static class DemoCommand
{
    public static Command Create(TextWriter output, TextWriter errors)
    {
        var once = new Option<bool>("--once") { Description = "Play the story and exit: 0 only if every step got its expected answer" };
        var dynamicPorts = new Option<bool>("--dynamic-ports") { Description = "Listen on free ports instead of 5556, 8081-8083, 9090, 7101-7103" };
        var command = new Command("demo", "Run the sample network (identity provider, three segments, sample services) and play a lateral-movement story")
        {
            once, dynamicPorts,
        };
        command.SetAction(async (parse, outerToken) =>
        {
            using var signals = new ShutdownSignals(outerToken);
            var cancellationToken = signals.Token;
            using var logging = ConsoleLogging.Create(LogLevel.Error);
            DemoNetwork network;
            try
            {
                network = await DemoNetwork.StartAsync(!parse.GetValue(dynamicPorts), logging, cancellationToken);
            }
            catch (Exception ex) when (ex is IOException or InvalidOperationException or System.Net.Sockets.SocketException)
            {
                await errors.WriteLineAsync("ztgw demo: cannot start the demo network: " + ex.Message);
                await errors.WriteLineAsync("(another process may hold the demo ports; try --dynamic-ports)");
                return ExitCodes.PolicyProblem;
            }

            await using (network)
            {
                await output.WriteLineAsync("ZtGateway demo: finance, hr and engineering segments, each behind its own gateway listener.");
                await output.WriteLineAsync($"policy: {network.ConfigPath}   audit: {network.AuditPath}");
                await output.WriteLineAsync();
                using var story = new AttackStory(network, TimeProvider.System);
                var steps = new List<StoryStep>();
                await output.WriteLineAsync($"{"#",-2} {"who",-40} {"does what",-44} {"expected",-26} {"got",-26}");
                await foreach (var step in story.PlayAsync(cancellationToken))
                {
                    steps.Add(step);
                    await output.WriteLineAsync(
                        $"{steps.Count,-2} {step.Actor,-40} {step.Action,-44} {step.Expected,-26} {step.Got,-26} {(step.Passed ? "ok" : "UNEXPECTED")}");
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
                      curl -s {network.Gateway.ManagementAddress}readyz
                      tail -f {network.AuditPath}
                    """);
                await signals.WaitAsync();

                return failed == 0 ? ExitCodes.Success : ExitCodes.PolicyProblem;
            }
        });
        return command;
    }
}
