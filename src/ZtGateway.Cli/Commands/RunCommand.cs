using System.CommandLine;
using ZtGateway.Audit;
using ZtGateway.Hosting;

namespace ZtGateway.Cli;

/// <summary>
/// <c>ztgw run [--config PATH] [--segment NAME|all]</c>: serve until stopped. SIGHUP reopens the audit files
/// (after a rotation by rename) and the gateway keeps serving.
/// </summary>
internal static class RunCommand
{
    public static Command Create(TextWriter output, TextWriter errors)
    {
        var config = ZtgwCommand.ConfigOption();
        var segment = new Option<string>("--segment", "-s")
        {
            Description = "Serve only this segment's listener, or all",
            DefaultValueFactory = _ => "all",
        };
        var command = new Command("run", "Run the gateway: one listener per segment") { config, segment };
        command.SetAction(async (parse, outerToken) =>
        {
            using var signals = new ShutdownSignals(outerToken, hangup: () => AuditFileRegistry.Process.ReopenAll("SIGHUP"));
            var cancellationToken = signals.Token;
            var (host, diagnostics) = await GatewayHost.StartAsync(new GatewayHostOptions
            {
                ConfigPath = parse.GetValue(config)!,
                Segment = parse.GetValue(segment)!,
            }, cancellationToken);

            if (host is null)
            {
                DiagnosticPrinter.Print(errors, diagnostics);
                await errors.WriteLineAsync("ztgw: the policy is invalid; no listener was opened.");
                return ExitCodes.PolicyProblem;
            }

            await using (host)
            {
                foreach (var (name, address) in host.Listeners)
                {
                    await output.WriteLineAsync($"segment {name} on {address}");
                }

                await signals.WaitAsync();
                await output.WriteLineAsync("stopping");
            }

            return ExitCodes.Success;
        });
        return command;
    }
}
