namespace ZtGateway.Policy.Engine;

/// <summary>What one segment of a <see cref="CompiledPathTemplate"/> is. The order is the precedence: lower is more specific.</summary>
internal enum TemplateSegmentKind
{
    /// <summary>Fixed text, compared ignoring case.</summary>
    Literal = 0,

    /// <summary><c>{name}</c>: exactly one non-empty segment.</summary>
    Parameter = 1,

    /// <summary>The template ends here: a path with nothing left is an exact match.</summary>
    End = 2,

    /// <summary><c>{**name}</c> (or <c>{*name}</c>), last only: zero or more segments.</summary>
    CatchAll = 3,
}

/// <summary>One segment of a parsed template.</summary>
internal readonly record struct TemplateSegment(TemplateSegmentKind Kind, string Text);

/// <summary>
/// A parsed route path template: literal segments, <c>{name}</c> for one segment and a final <c>{**name}</c> for the
/// rest. Literals compare ordinal-ignore-case, like ASP.NET Core routing. Matching expects a path that passed
/// <see cref="RequestPath.IsCanonical"/> and does not allocate.
/// </summary>
internal sealed class CompiledPathTemplate
{
    private readonly TemplateSegment[] segments;

    private CompiledPathTemplate(string text, TemplateSegment[] segments)
    {
        Text = text;
        this.segments = segments;
    }

    /// <summary>The template as written.</summary>
    public string Text { get; }

    /// <summary>The parsed segments, in order.</summary>
    public IReadOnlyList<TemplateSegment> Segments => segments;

    /// <summary>Parses <paramref name="text"/>; on failure <paramref name="error"/> says why in one sentence.</summary>
    public static bool TryParse(string text, out CompiledPathTemplate? template, out string? error)
    {
        ArgumentNullException.ThrowIfNull(text);
        template = null;
        if (text.Length == 0 || text[0] != '/')
        {
            error = $"path template '{text}' must start with '/'";
            return false;
        }

        // One trailing slash is ignored, as it is on requests; "/" itself has no segments.
        var body = text.AsSpan(1);
        if (!body.IsEmpty && body[^1] == '/')
        {
            body = body[..^1];
            if (body.IsEmpty)
            {
                error = $"path template '{text}' has an empty segment";
                return false;
            }
        }

        var parsed = new List<TemplateSegment>();
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        if (!body.IsEmpty)
        {
            foreach (var range in body.Split('/'))
            {
                if (parsed.Count > 0 && parsed[^1].Kind == TemplateSegmentKind.CatchAll)
                {
                    error = $"path template '{text}': a catch-all parameter must be the last segment";
                    return false;
                }

                if (!TryParseSegment(text, body[range], names, out var segment, out error))
                {
                    return false;
                }

                parsed.Add(segment);
            }
        }

        template = new CompiledPathTemplate(text, [.. parsed]);
        error = null;
        return true;
    }

    /// <summary>Parses <paramref name="text"/> or throws <see cref="ArgumentException"/>.</summary>
    public static CompiledPathTemplate Parse(string text) =>
        TryParse(text, out var template, out var error) ? template! : throw new ArgumentException(error, nameof(text));

    /// <summary>True when the canonical <paramref name="path"/> matches this template.</summary>
    public bool Matches(ReadOnlySpan<char> path)
    {
        // Position of the next path segment; a canonical path starts with '/'.
        var position = 1;
        foreach (var segment in segments)
        {
            if (segment.Kind == TemplateSegmentKind.CatchAll)
            {
                return true;
            }

            if (position >= path.Length)
            {
                return false;
            }

            var rest = path[position..];
            var length = rest.IndexOf('/');
            if (length < 0)
            {
                length = rest.Length;
            }

            if (segment.Kind == TemplateSegmentKind.Literal
                && !rest[..length].Equals(segment.Text, StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }

            position += length + 1;
        }

        return position >= path.Length;
    }

    /// <summary>
    /// Orders templates most specific first: segment by segment, literal before parameter before the end of the
    /// template before catch-all. Zero means the two have the same shape.
    /// </summary>
    public static int CompareSpecificity(CompiledPathTemplate x, CompiledPathTemplate y)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        var count = Math.Max(x.segments.Length, y.segments.Length);
        for (var i = 0; i < count; i++)
        {
            var kx = i < x.segments.Length ? x.segments[i].Kind : TemplateSegmentKind.End;
            var ky = i < y.segments.Length ? y.segments[i].Kind : TemplateSegmentKind.End;
            if (kx != ky)
            {
                return kx.CompareTo(ky);
            }
        }

        return 0;
    }

    /// <inheritdoc/>
    public override string ToString() => Text;

    private static bool TryParseSegment(
        string text, ReadOnlySpan<char> part, HashSet<string> names, out TemplateSegment segment, out string? error)
    {
        segment = default;
        if (part.IsEmpty)
        {
            error = $"path template '{text}' has an empty segment";
            return false;
        }

        if (part[0] != '{')
        {
            if (part.ContainsAny('{', '}') || part.Contains('\\') || part is "." or "..")
            {
                error = $"path template '{text}': segment '{part}' is not a literal or a single '{{name}}' parameter";
                return false;
            }

            segment = new TemplateSegment(TemplateSegmentKind.Literal, part.ToString());
            error = null;
            return true;
        }

        if (part.Length < 3 || part[^1] != '}')
        {
            error = $"path template '{text}': segment '{part}' is not a literal or a single '{{name}}' parameter";
            return false;
        }

        var inner = part[1..^1];
        var kind = TemplateSegmentKind.Parameter;
        if (inner.StartsWith("**", StringComparison.Ordinal))
        {
            kind = TemplateSegmentKind.CatchAll;
            inner = inner[2..];
        }
        else if (inner.StartsWith('*'))
        {
            kind = TemplateSegmentKind.CatchAll;
            inner = inner[1..];
        }

        if (inner.IsEmpty || !IsParameterName(inner))
        {
            error = $"path template '{text}': parameter '{part}' needs a plain name (constraints, defaults and optional parameters are not supported)";
            return false;
        }

        var name = inner.ToString();
        if (!names.Add(name))
        {
            error = $"path template '{text}' repeats parameter '{name}'";
            return false;
        }

        segment = new TemplateSegment(kind, name);
        error = null;
        return true;
    }

    private static bool IsParameterName(ReadOnlySpan<char> name)
    {
        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '_' && c != '-')
            {
                return false;
            }
        }

        return true;
    }
}
