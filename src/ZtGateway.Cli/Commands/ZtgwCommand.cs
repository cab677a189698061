using System.CommandLine;

namespace ZtGateway.Cli;

/// <summary>The <c>ztgw</c> command line: one executable, one verb per job.</summary>
internal static class ZtgwCommand
{
    public const string DefaultConfig = "config/gateway.yaml";

    public static async Task<int> InvokeAsync(string[] args, TextWriter? stdout = null, TextWriter? stderr = null)
    {
        var output = stdout ?? Console.Out;
        var errors = stderr ?? Console.Error;
        var root = new RootCommand("ztgw: identity-aware gateway that keeps a breach in the segment where it started")
        {
            RunCommand.Create(output, errors),
            ValidateCommand.Create(output, errors),
            DevCommand.Create(output, errors),
            DemoCommand.Create(output, errors),
            ExplainCommand.Create(output, errors),
            GraphCommand.Create(output, errors),
            DiffCommand.Create(output, errors),
            TestCommand.Create(output, errors),
        };

        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
            {
                await errors.WriteLineAsync("ztgw: " + error.Message);
            }

            await errors.WriteLineAsync("Run 'ztgw --help' for usage.");
            return ExitCodes.Usage;
        }

        return await parse.InvokeAsync(new InvocationConfiguration { Output = output, Error = errors });
    }

    public static Option<string> ConfigOption() => new("--config", "-c")
    {
        Description = "Path of gateway.yaml",
        DefaultValueFactory = _ => DefaultConfig,
    };
}
