using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Loading;
using ZtGateway.Policy.Loading.Yaml;

namespace ZtGateway.Policy.Tests.Loading.Yaml;

public sealed class YamlTreeReaderTests
{
    [Fact]
    public void Keeps_DuplicateKeys_WithPositions()
    {
        var diagnostics = new DiagnosticBag();

        var root = Assert.IsType<MappingNode>(YamlTreeReader.Read("f.yaml", "a: 1\nb: 2\na: 3\n", diagnostics));

        Assert.False(diagnostics.HasErrors);
        Assert.Equal(["a", "b", "a"], root.Entries.Select(e => ((ScalarNode)e.Key).Value));
        Assert.Equal(new SourceLocation("f.yaml", 3, 1), root.Entries[2].Key.Location);
        Assert.Equal(new SourceLocation("f.yaml", 3, 4), root.Entries[2].Value.Location);
    }

    [Fact]
    public void Resolves_Aliases_ToTheAnchoredNode()
    {
        var diagnostics = new DiagnosticBag();

        var root = Assert.IsType<MappingNode>(YamlTreeReader.Read("f.yaml", "a: &nets [10.0.0.0/8]\nb: *nets\n", diagnostics));

        Assert.Same(root.Entries[0].Value, root.Entries[1].Value);
    }

    [Theory]
    [InlineData("a:\nb: ~\nc: null\nd: ''\ne: \"\"\n", new[] { true, true, true, false, false })]
    public void Marks_NullScalars(string text, bool[] isNull)
    {
        var root = Assert.IsType<MappingNode>(YamlTreeReader.Read("f.yaml", text, new DiagnosticBag()));

        Assert.Equal(isNull, root.Entries.Select(e => ((ScalarNode)e.Value).IsNull));
    }

    [Theory]
    [InlineData("a: [1, 2\nb: 3\n", "f.yaml:1:4: error: invalid YAML: unterminated flow collection")]
    [InlineData("a: \"open\n", "f.yaml:1:4: error: invalid YAML: while scanning a quoted scalar, found unexpected end of stream")]
    [InlineData("a: b: c\n", "f.yaml:1:5: error: invalid YAML: while scanning a plain scalar value, found invalid mapping")]
    [InlineData("", "f.yaml:1:1: error: file is empty")]
    [InlineData("~\n", "f.yaml:1:1: error: file is empty")]
    [InlineData("a: 1\n---\nb: 2\n", "f.yaml:2:1: error: a file holds one YAML document; remove the second one")]
    public void Reports_SyntaxErrors_AsDiagnostics(string text, string expected)
    {
        var diagnostics = new DiagnosticBag();

        var root = YamlTreeReader.Read("f.yaml", text, diagnostics);

        Assert.Null(root);
        Assert.Equal([expected], diagnostics.Sorted().Select(d => d.Format()));
    }
}
