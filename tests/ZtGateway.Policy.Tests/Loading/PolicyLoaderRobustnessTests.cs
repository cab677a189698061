using ZtGateway.Policy.Loading;

namespace ZtGateway.Policy.Tests.Loading;

/// <summary>Damaged files must always come back as diagnostics, never as an exception.</summary>
public sealed class PolicyLoaderRobustnessTests
{
    public static TheoryData<string, string> Files => new()
    {
        { "gateway.yaml", PolicySamples.FullGateway },
        { "segments/hr.yaml", PolicySamples.FullHr },
    };

    [Theory]
    [MemberData(nameof(Files))]
    public void Never_Throws_OnTruncatedFile(string file, string content)
    {
        using var folder = PolicySamples.Full();
        for (var length = 0; length < content.Length; length += 5)
        {
            folder.Write(file, content[..length]);

            var result = folder.Load();

            Assert.True(result.Policy is not null || result.Diagnostics.Any(d => d.Severity == DiagnosticSeverity.Error), $"length {length}");
        }
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Never_Throws_OnMissingOrShiftedLine(string file, string content)
    {
        using var folder = PolicySamples.Full();
        var lines = content.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            folder.Write(file, string.Join('\n', lines.Where((_, j) => j != i)));
            Assert.NotNull(folder.Load().Diagnostics);

            folder.Write(file, string.Join('\n', lines.Select((l, j) => j == i ? " " + l : l)));
            Assert.NotNull(folder.Load().Diagnostics);
        }
    }

    [Fact]
    public void Ignores_FolderNamedLikeASegmentFile()
    {
        using var folder = PolicySamples.Minimal();
        Directory.CreateDirectory(folder.PathOf("segments/archive.yaml"));

        var result = folder.Load();

        Assert.Equal(string.Empty, folder.FormatAll(result));
        Assert.Equal(2, result.Policy!.Segments.Count);
    }
}
