using System.CommandLine;
using ZtGateway.Policy.Analysis;
using ZtGateway.Policy.Engine;

namespace ZtGateway.Cli;

/// <summary><c>ztgw test FILE</c>: runs operator-written policy test cases through the decision engine.</summary>
internal static class TestCommand
{
    public static Command Create(TextWriter output, TextWriter errors)
    {
        var file = new Argument<string>("FILE") { Description = "A policy test file (cases: [{name, request, expect}])" };
        var config = new Option<string?>("--config", "-c") { Description = "Path of gateway.yaml (default: the file's 'config')" };
        var command = new Command("test", "Run policy test cases; exit 1 when any fails") { file, config };
        command.SetAction(parse =>
        {
            var loaded = PolicyTestSuite.Load(parse.GetValue(file)!);
            DiagnosticPrinter.Print(loaded.Succeeded ? output : errors, loaded.Diagnostics);
            if (loaded.Suite is not { } suite)
            {
                return ExitCodes.PolicyProblem;
            }

            var configPath = parse.GetValue(config) ?? suite.ConfigPath;
            if (configPath is null)
            {
                errors.WriteLine($"ztgw test: {parse.GetValue(file)} names no 'config'; give --config");
                return ExitCodes.Usage;
            }

            // The loader's clock only decides which grants it warns about; each case has its own instant.
            var policy = PolicyArguments.Load(configPath, suite.At is { } at ? new PinnedTimeProvider(at) : TimeProvider.System, errors);
            if (policy is null)
            {
                return ExitCodes.PolicyProblem;
            }

            var results = PolicyTestRunner.Run(policy, suite, TimeProvider.System);
            foreach (var result in results)
            {
                if (result.Passed)
                {
                    output.WriteLine($"ok    {result.Case.Name}");
                    continue;
                }

                var decision = result.Explanation.Decision;
                output.WriteLine($"FAIL  {result.Case.Name} ({Path.GetFileName(suite.FilePath)}:{result.Case.Location.Line})");
                foreach (var mismatch in result.Mismatches)
                {
                    output.WriteLine($"        {mismatch}");
                }

                output.WriteLine($"        decided {(decision.Allowed ? "allow" : "deny")} {decision.Reason.ToCode()} " +
                    $"(route {decision.RouteId ?? "none"}, rule {decision.RuleName ?? "none"}, source {(decision.SourceSegment.Length == 0 ? "none" : decision.SourceSegment)})");
                foreach (var rule in result.Explanation.Rules)
                {
                    output.WriteLine($"        {(rule.IsDeny ? "deny " : "allow")} {rule.Rule}: {rule.Detail}");
                }
            }

            var failed = results.Count(r => !r.Passed);
            output.WriteLine($"{results.Count - failed} passed, {failed} failed");
            return failed == 0 ? ExitCodes.Success : ExitCodes.PolicyProblem;
        });
        return command;
    }
}
