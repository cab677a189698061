using System.Globalization;
using System.Text;
using ZtGateway.Policy.Engine;

namespace ZtGateway.Fuzz.Targets;

/// <summary>
/// <see cref="RequestPath.IsUnambiguous"/> on a fuzzed request target (the input as UTF-8, up to the first line break)
/// and on decoded paths: the one a listener makes of that target, and the text after the first line break, if any.
/// Properties: it never throws; whenever it accepts a raw target, decoding the target's path (up to <c>?</c>) once by
/// this harness's own decoder gives valid UTF-8 with no <c>;</c>, <c>\</c>, <c>%</c> or control character and no
/// encoded <c>/</c>; whenever it accepts a decoded path, that path starts with <c>/</c> and has none of those, and no
/// empty, <c>.</c> or <c>..</c> segment but one trailing slash.
/// </summary>
internal sealed class RequestPathTarget : IFuzzTarget
{
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public string Name => "path";

    public void Run(ReadOnlySpan<byte> input)
    {
        var text = Utf8.GetString(input);
        var split = text.IndexOf('\n', StringComparison.Ordinal);
        var raw = split < 0 ? text : text[..split];
        var decoded = ListenerPath(raw);

        if (RequestPath.IsUnambiguous(decoded, raw))
        {
            CheckRawTarget(raw);
            CheckDecodedPath(decoded);
        }

        if (RequestPath.IsUnambiguous(decoded, []))
        {
            CheckDecodedPath(decoded);
        }

        if (split >= 0)
        {
            var path = text[(split + 1)..];
            if (RequestPath.IsUnambiguous(path, raw))
            {
                CheckRawTarget(raw);
                CheckDecodedPath(path);
            }

            if (RequestPath.IsUnambiguous(path, []))
            {
                CheckDecodedPath(path);
            }
        }
    }

    public void Dispose()
    {
    }

    /// <summary>The differential property: what an upstream decoding the accepted target once would see.</summary>
    internal static void CheckRawTarget(string raw)
    {
        if (raw.Length == 0 || raw == "*")
        {
            return;
        }

        PropertyViolationException.Check(raw.StartsWith('/') || raw.Contains("://", StringComparison.Ordinal), $"accepted the target '{Show(raw)}'");
        var path = PathOfTarget(raw);
        var bytes = new List<byte>(path.Length);
        for (var i = 0; i < path.Length; i++)
        {
            if (path[i] != '%')
            {
                if (char.IsSurrogate(path[i]))
                {
                    var pair = i + 1 < path.Length && char.IsSurrogatePair(path[i], path[i + 1]);
                    PropertyViolationException.Check(pair, $"accepted a lone surrogate in '{Show(raw)}'");
                    bytes.AddRange(StrictUtf8.GetBytes(path.Substring(i, 2)));
                    i++;
                    continue;
                }

                bytes.AddRange(StrictUtf8.GetBytes(path[i].ToString()));
                continue;
            }

            var escape = i + 2 < path.Length ? path.Substring(i + 1, 2) : string.Empty;
            PropertyViolationException.Check(
                byte.TryParse(escape, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value),
                $"accepted a malformed escape in '{Show(raw)}'");
            PropertyViolationException.Check(value != '/', $"accepted an encoded '/' in '{Show(raw)}'");
            bytes.Add(value);
            i += 2;
        }

        string once;
        try
        {
            once = StrictUtf8.GetString([.. bytes]);
        }
        catch (DecoderFallbackException)
        {
            throw new PropertyViolationException($"accepted '{Show(raw)}', whose path does not decode to UTF-8");
        }

        CheckCharacters(once, $"the decoded path of '{Show(raw)}'");
    }

    /// <summary>What is accepted as decoded is canonical: rooted, no ambiguous segment, no refused character.</summary>
    internal static void CheckDecodedPath(string path)
    {
        PropertyViolationException.Check(path.StartsWith('/'), $"accepted the unrooted path '{Show(path)}'");
        CheckCharacters(path, $"the path '{Show(path)}'");
        var segments = path[1..].Split('/');
        for (var i = 0; i < segments.Length; i++)
        {
            var last = i == segments.Length - 1;
            PropertyViolationException.Check(segments[i].Length > 0 || last, $"accepted an empty segment in '{Show(path)}'");
            PropertyViolationException.Check(segments[i] is not ("." or ".."), $"accepted a dot segment in '{Show(path)}'");
        }
    }

    private static void CheckCharacters(string text, string what)
    {
        foreach (var rune in text.EnumerateRunes())
        {
            PropertyViolationException.Check(
                rune.Value is not (';' or '\\' or '%') && !Rune.IsControl(rune),
                $"{what} holds U+{rune.Value:X4}");
        }
    }

    // The path of a request target, independently of the code under test: origin-form up to '?', or in
    // absolute-form what follows "scheme://authority" up to '?'.
    private static string PathOfTarget(string raw)
    {
        var target = raw;
        if (!target.StartsWith('/'))
        {
            var authority = target.IndexOf("://", StringComparison.Ordinal);
            if (authority < 0)
            {
                return target;
            }

            // RFC 3986 section 3.2: the authority ends at the first '/' or '?'.
            var end = target.IndexOfAny(['/', '?'], authority + 3);
            target = end < 0 || target[end] == '?' ? string.Empty : target[end..];
        }

        var query = target.IndexOf('?', StringComparison.Ordinal);
        return query < 0 ? target : target[..query];
    }

    /// <summary>
    /// A decoded path as a listener makes it: the target's path (up to <c>?</c>), escapes decoded except
    /// <c>%2F</c> (kept, as Kestrel keeps it), left as received when the bytes are not UTF-8, dot segments removed.
    /// </summary>
    internal static string ListenerPath(string raw)
    {
        var path = PathOfTarget(raw);
        var bytes = new List<byte>(path.Length);
        for (var i = 0; i < path.Length; i++)
        {
            if (path[i] == '%' && i + 2 < path.Length
                && byte.TryParse(path.AsSpan(i + 1, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value)
                && value != '/')
            {
                bytes.Add(value);
                i += 2;
                continue;
            }

            bytes.AddRange(Utf8.GetBytes(path[i].ToString()));
        }

        string decoded;
        try
        {
            decoded = StrictUtf8.GetString([.. bytes]);
        }
        catch (DecoderFallbackException)
        {
            decoded = path;
        }

        return RemoveDotSegments(decoded);
    }

    // RFC 3986 section 5.2.4, on whole segments.
    private static string RemoveDotSegments(string path)
    {
        if (!path.StartsWith('/'))
        {
            return path;
        }

        var output = new List<string>();
        var segments = path[1..].Split('/');
        for (var i = 0; i < segments.Length; i++)
        {
            var last = i == segments.Length - 1;
            switch (segments[i])
            {
                case ".":
                    if (last)
                    {
                        output.Add(string.Empty);
                    }

                    break;
                case "..":
                    if (output.Count > 0)
                    {
                        output.RemoveAt(output.Count - 1);
                    }

                    if (last)
                    {
                        output.Add(string.Empty);
                    }

                    break;
                default:
                    output.Add(segments[i]);
                    break;
            }
        }

        return "/" + string.Join('/', output);
    }

    private static string Show(string text)
    {
        var shown = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            shown.Append(c is < ' ' or > '~' ? $"\\u{(int)c:X4}" : c.ToString());
        }

        return shown.ToString();
    }
}
