using System.CommandLine;
using ZtGateway.Policy.Analysis;
using ZtGateway.Policy.Analysis.Rendering;
using ZtGateway.Policy.Engine;

namespace ZtGateway.Cli;

/// <summary>
/// <c>ztgw diff OLD NEW</c>: the access paths a policy change opens and closes, and the requirements it weakens or
/// tightens. Exits 3 when something opens or weakens, so that a CI gate can hold the change for review.
/// </summary>
internal static class DiffCommand
{
    public static Command Create(TextWriter output, TextWriter errors)
    {
        var before = new Argument<string>("OLD") { Description = "gateway.yaml of the policy before the change" };
        var after = new Argument<string>("NEW") { Description = "gateway.yaml of the policy after the change" };
        var json = new Option<bool>("--json") { Description = "Write JSON" };
        var at = new Option<string?>("--at") { Description = "Compare as of this instant (default: now)" };
        var command = new Command("diff", "Show the access paths a policy change opens and closes; exit 3 when it opens or weakens any")
        {
            before, after, json, at,
        };
        command.SetAction(parse =>
        {
            if (!PolicyArguments.TryClock(parse.GetValue(at), "diff", errors, out var clock))
            {
                return ExitCodes.Usage;
            }

            var old = PolicyArguments.Load(parse.GetValue(before)!, clock, errors);
            var now = PolicyArguments.Load(parse.GetValue(after)!, clock, errors);
            if (old is null || now is null)
            {
                return ExitCodes.PolicyProblem;
            }

            var report = PolicyDiff.Compare(new PolicyEngine(old, clock), new PolicyEngine(now, clock));
            ReportRenderer.Render(report, parse.GetValue(json) ? ReportFormat.Json : ReportFormat.Text, output);
            return report.Opens ? ExitCodes.AccessOpened : ExitCodes.Success;
        });
        return command;
    }
}
