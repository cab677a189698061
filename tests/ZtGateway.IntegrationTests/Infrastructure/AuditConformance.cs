using System.Text;
using ZtGateway.Tests.Audit.Ocsf;

namespace ZtGateway.IntegrationTests.Infrastructure;

/// <summary>
/// Every audit line a test gateway wrote, checked against the vendored OCSF 1.8.0 schema when the gateway is disposed:
/// so each test that drives a gateway (every reason code, method, finding, quarantine, signal and reload the suite covers)
/// also proves that what it made the gateway write is valid OCSF.
/// </summary>
public static class AuditConformance
{
    /// <summary>Throws when a line of a <c>*.jsonl</c> file under <paramref name="directory"/> is not valid OCSF 1.8.0.</summary>
    public static void AssertValid(string directory)
    {
        if (!Directory.Exists(directory))
        {
            return;
        }

        var problems = new List<string>();
        foreach (var file in Directory.EnumerateFiles(directory, "*.jsonl*", SearchOption.AllDirectories)
            .Where(f => Path.GetFileName(Path.GetDirectoryName(f)) == "audit" || Path.GetFileName(f).StartsWith("audit", StringComparison.Ordinal)))
        {
            var number = 0;
            foreach (var line in File.ReadLines(file))
            {
                number++;
                if (line.Length == 0)
                {
                    continue;
                }

                var violations = OcsfSchema.Vendored.Validate(Encoding.UTF8.GetBytes(line));
                if (violations.Count > 0)
                {
                    problems.Add($"{Path.GetFileName(file)}:{number}: {string.Join("; ", violations)}\n  {line}");
                }
            }
        }

        if (problems.Count > 0)
        {
            throw new Xunit.Sdk.XunitException($"{problems.Count} audit lines are not valid OCSF 1.8.0:\n" + string.Join('\n', problems.Take(10)));
        }
    }
}
