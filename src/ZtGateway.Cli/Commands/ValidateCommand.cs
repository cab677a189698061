using System.CommandLine;
using ZtGateway.Policy.Loading;

namespace ZtGateway.Cli;

/// <summary><c>ztgw validate [--config PATH]</c>: report every problem of a policy at once.</summary>
internal static class ValidateCommand
{
    public static Command Create(TextWriter output, TextWriter errors)
    {
        var config = ZtgwCommand.ConfigOption();
        var noKeyFiles = new Option<bool>("--no-key-files")
        {
            Description = "Do not open the key files the config names (checking a policy away from its deployment)",
        };
        var command = new Command("validate", "Check gateway.yaml, every segment file and the key files they name; report every error") { config, noKeyFiles };
        command.SetAction(parse =>
        {
            var path = parse.GetValue(config)!;
            var options = new PolicyLoadOptions { KeyFiles = parse.GetValue(noKeyFiles) ? KeyFileCheck.Skip : KeyFileCheck.Required };
            var result = PolicyLoader.Load(Path.GetFullPath(path), TimeProvider.System, options);
            DiagnosticPrinter.Print(result.Succeeded ? output : errors, result.Diagnostics);
            if (!result.Succeeded)
            {
                var count = result.Diagnostics.Count(d => d.Severity == DiagnosticSeverity.Error);
                errors.WriteLine($"{path}: invalid ({count} error{(count == 1 ? "" : "s")})");
                return ExitCodes.PolicyProblem;
            }

            var policy = result.Policy!;
            var routes = policy.Segments.Values.Sum(s => s.Routes.Count);
            var warnings = result.Diagnostics.Count(d => d.Severity == DiagnosticSeverity.Warning);
            var warned = warnings == 0 ? string.Empty : $", {warnings} warning{(warnings == 1 ? "" : "s")}";
            output.WriteLine($"{path}: valid ({policy.Segments.Count} segments, {routes} routes, version {policy.Version[..12]}{warned})");
            return ExitCodes.Success;
        });
        return command;
    }
}
