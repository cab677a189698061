using ZtGateway.Policy.Loading;

namespace ZtGateway.Cli;

internal static class DiagnosticPrinter
{
    public static void Print(TextWriter writer, IEnumerable<Diagnostic> diagnostics)
    {
        var cwd = Directory.GetCurrentDirectory();
        foreach (var diagnostic in diagnostics)
        {
            writer.WriteLine(diagnostic.Format(cwd));
        }
    }
}
