namespace ZtGateway.Fuzz.Tests;

/// <summary>
/// Every file of <c>fuzz/corpus/TARGET</c> and <c>fuzz/seeds/TARGET</c> through the same target function afl-fuzz
/// runs: a finding once fixed stays fixed, and a change that breaks a property on a known input fails here.
/// </summary>
public sealed class CorpusReplayTests(TargetPool pool) : IClassFixture<TargetPool>
{
    private static readonly string[] Sets = ["corpus", "seeds"];

    public static TheoryData<string> Targets() => [.. FuzzTargets.Names];

    public static TheoryData<string, string> Inputs()
    {
        var inputs = new TheoryData<string, string>();
        foreach (var target in FuzzTargets.Names)
        {
            foreach (var set in Sets)
            {
                foreach (var file in Files(set, target))
                {
                    inputs.Add(target, Path.GetRelativePath(Repository.Root, file));
                }
            }
        }

        return inputs;
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public void Replays_Input(string target, string file)
    {
        var input = File.ReadAllBytes(Repository.PathOf(file));

        var thrown = Record.Exception(() => pool.Get(target).Run(input));

        Assert.Null(thrown);
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void EveryTarget_HasACorpusAndSeeds(string target)
    {
        // An emptied or renamed folder would otherwise make the replay pass by running nothing.
        Assert.True(Files("corpus", target).Count >= 10, $"fuzz/corpus/{target} holds fewer than 10 inputs");
        Assert.NotEmpty(Files("seeds", target));
    }

    [Fact]
    public void EveryCorpusFolder_BelongsToATarget()
    {
        var folders = Directory.GetDirectories(Repository.PathOf("fuzz", "corpus")).Select(Path.GetFileName);

        Assert.All(folders, folder => Assert.Contains(folder, FuzzTargets.Names));
    }

    private static List<string> Files(string set, string target)
    {
        var folder = Repository.PathOf("fuzz", set, target);
        return Directory.Exists(folder) ? [.. Directory.EnumerateFiles(folder).Order(StringComparer.Ordinal)] : [];
    }
}
