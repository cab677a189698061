using System.CommandLine;
using ZtGateway.Policy.Analysis;
using ZtGateway.Policy.Analysis.Rendering;
using ZtGateway.Policy.Engine;

namespace ZtGateway.Cli;

/// <summary>
/// <c>ztgw graph</c>: the segment reachability graph, or with <c>--compromised</c> the blast radius of a breach, every route
/// it reaches directly and through the workload identities of the services it reaches.
/// </summary>
internal static class GraphCommand
{
    public static Command Create(TextWriter output, TextWriter errors)
    {
        var config = ZtgwCommand.ConfigOption();
        var format = new Option<string>("--format") { Description = "text, mermaid, dot or json", DefaultValueFactory = _ => "text" };
        format.AcceptOnlyFromAmong("text", "mermaid", "dot", "json");
        var compromised = new Option<string?>("--compromised")
        {
            Description = "Blast radius of workload:ID, device-segment:NAME or user:SUB[,GROUP...][,role=ROLE...]",
        };
        var at = new Option<string?>("--at") { Description = "Judge grants as of this instant (default: now)" };
        var command = new Command("graph", "Show which segments, people and workloads can reach which routes, or the blast radius of a compromise")
        {
            config, format, compromised, at,
        };
        command.SetAction(parse =>
        {
            Compromise? start = null;
            if (parse.GetValue(compromised) is { } text && !Compromise.TryParse(text, out start, out var error))
            {
                errors.WriteLine("ztgw graph: --compromised " + error);
                return ExitCodes.Usage;
            }

            if (!PolicyArguments.TryClock(parse.GetValue(at), "graph", errors, out var clock))
            {
                return ExitCodes.Usage;
            }

            var policy = PolicyArguments.Load(parse.GetValue(config)!, clock, errors);
            if (policy is null)
            {
                return ExitCodes.PolicyProblem;
            }

            var engine = new PolicyEngine(policy, clock);
            var chosen = Enum.Parse<ReportFormat>(parse.GetValue(format)!, ignoreCase: true);
            if (start is null)
            {
                ReportRenderer.Render(ReachabilityGraph.Build(engine), chosen, output);
            }
            else
            {
                ReportRenderer.Render(BlastRadius.Compute(engine, start), chosen, output);
            }

            return ExitCodes.Success;
        });
        return command;
    }
}
