namespace ZtGateway.Policy.Loading.Values;

/// <summary>
/// Checks route path templates: literal segments, <c>{name}</c> for one segment, and a final <c>{**name}</c> for the
/// rest of the path.
/// </summary>
internal static class PathTemplateSyntax
{
    /// <summary>Returns null when <paramref name="path"/> is a valid template, else what is wrong with it.</summary>
    public static string? Validate(string path)
    {
        if (!path.StartsWith('/'))
        {
            return "must start with '/'";
        }

        if (path.Any(c => char.IsWhiteSpace(c) || c is '?' or '#'))
        {
            return "must not hold spaces, '?' or '#'";
        }

        if (path.Contains("//", StringComparison.Ordinal))
        {
            return "has an empty segment ('//')";
        }

        // A single trailing slash is allowed ("/api/"); the root "/" has no segments at all.
        var body = path.Length > 1 && path.EndsWith('/') ? path[1..^1] : path[1..];
        if (body.Length == 0)
        {
            return Engine.CompiledPathTemplate.TryParse(path, out _, out var rootError) ? null : rootError;
        }

        var segments = body.Split('/');
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < segments.Length; i++)
        {
            var segment = segments[i];
            if (!segment.Contains('{', StringComparison.Ordinal) && !segment.Contains('}', StringComparison.Ordinal))
            {
                continue;
            }

            if (!segment.StartsWith('{') || !segment.EndsWith('}') || segment.Count(c => c == '{') != 1 || segment.Count(c => c == '}') != 1)
            {
                return segment.Count(c => c == '{') != segment.Count(c => c == '}')
                    ? $"has an unbalanced brace in segment '{segment}'"
                    : $"segment '{segment}' must be a literal, {{name}} or {{**name}}";
            }

            var catchAll = segment.StartsWith("{**", StringComparison.Ordinal);
            var name = catchAll ? segment[3..^1] : segment[1..^1];
            if (!IsParameterName(name))
            {
                return $"has an invalid parameter name in segment '{segment}'";
            }

            if (!names.Add(name))
            {
                return $"uses parameter '{name}' twice";
            }

            if (catchAll && (i != segments.Length - 1 || path.EndsWith('/')))
            {
                return $"has a catch-all '{segment}' that is not the last segment";
            }
        }

        // The engine compiles the template it will match with; whatever it cannot compile must be a
        // diagnostic here, never an exception when the policy is loaded into the gateway.
        return Engine.CompiledPathTemplate.TryParse(path, out _, out var engineError) ? null : engineError;
    }

    private static bool IsParameterName(string name) =>
        name.Length > 0 && (char.IsAsciiLetter(name[0]) || name[0] == '_') && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');
}
