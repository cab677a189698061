using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using ZtGateway.Policy.Configuration;

namespace ZtGateway.Policy.Loading.Yaml;

/// <summary>Turns YAML text into a <see cref="Node"/> tree, reporting syntax errors as diagnostics.</summary>
internal static class YamlTreeReader
{
    // Policy files are a few levels deep; a limit keeps a hostile file from exhausting the stack.
    private const int MaxDepth = 64;

    /// <summary>
    /// Parses one YAML document. Returns null, with an error recorded, when the text is not valid YAML, holds more
    /// than one document, or is empty.
    /// </summary>
    public static Node? Read(string filePath, string text, DiagnosticBag diagnostics)
    {
        var parser = new Parser(new StringReader(text));
        var builder = new Builder(filePath, parser);
        try
        {
            parser.Consume<StreamStart>();
            if (parser.Accept<StreamEnd>(out _))
            {
                diagnostics.Error(new SourceLocation(filePath, 1, 1), "file is empty");
                return null;
            }

            parser.Consume<DocumentStart>();
            var root = builder.ReadNode(0);
            parser.Consume<DocumentEnd>();
            if (parser.Accept<DocumentStart>(out var second))
            {
                diagnostics.Error(At(filePath, second.Start), "a file holds one YAML document; remove the second one");
                return null;
            }

            if (root is ScalarNode { IsNull: true })
            {
                diagnostics.Error(new SourceLocation(filePath, 1, 1), "file is empty");
                return null;
            }

            return root;
        }
        catch (YamlException e)
        {
            diagnostics.Error(At(filePath, e.Start), "invalid YAML: " + Describe(e.Message));
            return null;
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            // The scanner throws these (not YamlException) for some truncated flow collections; point at the one left open.
            var mark = builder.InnermostOpen ?? parser.Current?.End ?? Mark.Empty;
            diagnostics.Error(At(filePath, mark), "invalid YAML: unterminated flow collection");
            return null;
        }
    }

    private static SourceLocation At(string filePath, Mark mark) =>
        new(filePath, Math.Max(1, (int)mark.Line), Math.Max(1, (int)mark.Column));

    private static string Describe(string message)
    {
        var text = message.Trim().TrimEnd('.');
        return text.Length == 0 ? "syntax error" : char.ToLowerInvariant(text[0]) + text[1..];
    }

    private sealed class Builder(string filePath, IParser parser)
    {
        private readonly Dictionary<string, Node> anchors = new(StringComparer.Ordinal);
        private readonly Stack<Mark> open = new();

        /// <summary>Where the innermost collection still being read starts.</summary>
        public Mark? InnermostOpen => open.Count > 0 ? open.Peek() : null;

        public Node ReadNode(int depth)
        {
            var current = parser.Current ?? throw new YamlException("unexpected end of file");
            if (depth > MaxDepth)
            {
                throw new YamlException(current.Start, current.End, $"nesting deeper than {MaxDepth} levels");
            }

            Node node;
            switch (current)
            {
                case AnchorAlias alias:
                    parser.MoveNext();
                    return anchors.TryGetValue(alias.Value.Value, out var target)
                        ? target
                        : throw new YamlException(alias.Start, alias.End, $"Alias '*{alias.Value.Value}' names no anchor");
                case Scalar scalar:
                    parser.MoveNext();
                    node = new ScalarNode(At(filePath, scalar.Start), scalar.Value, IsNull(scalar));
                    break;
                case SequenceStart start:
                    parser.MoveNext();
                    open.Push(start.Start);
                    var items = new List<Node>();
                    while (!parser.TryConsume<SequenceEnd>(out _))
                    {
                        items.Add(ReadNode(depth + 1));
                    }

                    open.Pop();

                    node = new SequenceNode(At(filePath, start.Start), items);
                    break;
                case MappingStart start:
                    parser.MoveNext();
                    open.Push(start.Start);
                    var entries = new List<MappingEntry>();
                    while (!parser.TryConsume<MappingEnd>(out _))
                    {
                        var key = ReadNode(depth + 1);
                        entries.Add(new MappingEntry(key, ReadNode(depth + 1)));
                    }

                    open.Pop();

                    node = new MappingNode(At(filePath, start.Start), entries);
                    break;
                default:
                    throw new YamlException(current.Start, current.End, $"Unexpected {current.GetType().Name}");
            }

            if (current is NodeEvent { Anchor.IsEmpty: false } anchored)
            {
                anchors[anchored.Anchor.Value] = node;
            }

            return node;
        }

        private static bool IsNull(Scalar scalar) =>
            scalar.Style == ScalarStyle.Plain
            && scalar.IsPlainImplicit
            && scalar.Value is "" or "~" or "null" or "Null" or "NULL";
    }
}
