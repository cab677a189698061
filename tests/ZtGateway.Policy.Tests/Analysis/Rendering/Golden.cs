using ZtGateway.Policy.Tests.Schema;

namespace ZtGateway.Policy.Tests.Analysis.Rendering;

/// <summary>
/// Expected renderer outputs, kept as files in <c>Golden/</c> beside this class. They are contracts: a change shows
/// as a diff of the file. <c>ZTGW_UPDATE_GOLDEN=1</c> writes the actual output instead, for a deliberate change.
/// </summary>
internal static class Golden
{
    public static void AssertMatches(string name, string actual)
    {
        var path = Repository.PathOf("tests", "ZtGateway.Policy.Tests", "Analysis", "Rendering", "Golden", name);
        if (Environment.GetEnvironmentVariable("ZTGW_UPDATE_GOLDEN") == "1")
        {
            File.WriteAllText(path, actual.ReplaceLineEndings("\n"));
            return;
        }

        Assert.True(File.Exists(path), $"golden file {name} is missing (ZTGW_UPDATE_GOLDEN=1 writes it)");
        Assert.Equal(File.ReadAllText(path).ReplaceLineEndings(), actual);
    }

    /// <summary>What <paramref name="write"/> writes.</summary>
    public static string Capture(Action<TextWriter> write)
    {
        using var output = new StringWriter();
        write(output);
        return output.ToString();
    }
}
