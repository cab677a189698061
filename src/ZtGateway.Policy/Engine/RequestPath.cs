using System.Buffers;
using System.Text;

namespace ZtGateway.Policy.Engine;

/// <summary>
/// The strict-path check made before any route is matched. A path that an upstream could read as another path
/// (after one more decode, after stripping <c>;</c> path parameters as Tomcat, Jetty and Spring do, or after
/// turning <c>\</c> into <c>/</c>) is <c>path-invalid</c>: never matched, never forwarded.
/// </summary>
public static class RequestPath
{
    /// <summary>
    /// True when the request may be matched against routes. <paramref name="path"/> is the path as the listener
    /// decoded it (dot segments resolved); <paramref name="rawTarget"/> is the request target exactly as received,
    /// or empty where there is none (<c>explain</c>, <c>test</c>).
    /// </summary>
    /// <remarks>
    /// Refused: an empty, <c>.</c> or <c>..</c> segment left after decoding (one trailing slash is fine), a
    /// <c>%</c> left after decoding (a double-encoded or malformed escape, or Kestrel's kept <c>%2F</c>), and, raw
    /// or encoded, <c>;</c>, <c>\</c>, an encoded <c>/</c> or <c>%</c>, any control character, a malformed escape,
    /// and bytes that are not UTF-8 once decoded. A target is origin-form, absolute-form (an RFC 3986 scheme and an
    /// authority without control characters, <c>\</c> or <c>;</c>) or <c>*</c> alone. The query is not looked at.
    /// </remarks>
    public static bool IsUnambiguous(ReadOnlySpan<char> path, ReadOnlySpan<char> rawTarget) =>
        IsCanonical(path) && (rawTarget.IsEmpty || IsStrictTarget(rawTarget));

    /// <summary>
    /// True when a decoded <paramref name="path"/> starts with <c>/</c> and has no empty, <c>.</c> or <c>..</c>
    /// segment (one trailing slash is allowed), no <c>\</c>, <c>;</c>, <c>%</c> or control character.
    /// </summary>
    public static bool IsCanonical(ReadOnlySpan<char> path)
    {
        if (path.IsEmpty || path[0] != '/')
        {
            return false;
        }

        var segmentStart = 1;
        for (var i = 1; i <= path.Length; i++)
        {
            if (i == path.Length || path[i] == '/')
            {
                var segment = path[segmentStart..i];
                if (segment.IsEmpty)
                {
                    // Only a single trailing slash (or the root path) may leave an empty segment.
                    if (i != path.Length)
                    {
                        return false;
                    }
                }
                else if (segment is "." or "..")
                {
                    return false;
                }

                segmentStart = i + 1;
                continue;
            }

            if (IsRefused(path[i]) || path[i] == '%')
            {
                return false;
            }
        }

        return true;
    }

    // The request target as received: origin-form ("/a/b?q"), absolute-form ("http://host/a/b?q") or "*".
    private static bool IsStrictTarget(ReadOnlySpan<char> target)
    {
        // The form is read from the whole target: "*" alone, a path, or "scheme://authority" and then a path.
        if (target[0] != '/')
        {
            if (target is "*")
            {
                return true;
            }

            // absolute-form: a scheme of RFC 3986 section 3.1, then an authority that ends at the first '/' or '?'.
            var scheme = target.IndexOf("://", StringComparison.Ordinal);
            if (scheme <= 0 || !IsScheme(target[..scheme]))
            {
                return false;
            }

            var rest = target[(scheme + 3)..];
            var end = rest.IndexOfAny('/', '?');
            foreach (var c in end < 0 ? rest : rest[..end])
            {
                if (IsRefused(c))
                {
                    return false;
                }
            }

            target = end < 0 || rest[end] == '?' ? [] : rest[end..];
        }

        // Only '?' ends the path: a request target has no fragment, so a '#' and what follows are checked as path.
        var query = target.IndexOf('?');
        if (query >= 0)
        {
            target = target[..query];
        }

        // Decoded bytes must be UTF-8. A request line is at most a few KiB (Kestrel's limit is 8 KiB by default).
        var capacity = target.Length * 3;
        byte[]? rented = null;
        var buffer = capacity <= 512 ? stackalloc byte[512] : (rented = ArrayPool<byte>.Shared.Rent(capacity));
        try
        {
            var length = 0;
            for (var i = 0; i < target.Length; i++)
            {
                var c = target[i];
                if (c == '%')
                {
                    if (i + 2 >= target.Length)
                    {
                        return false;
                    }

                    var high = HexValue(target[i + 1]);
                    var low = HexValue(target[i + 2]);
                    if (high < 0 || low < 0)
                    {
                        return false;
                    }

                    var value = (high << 4) | low;
                    // A byte of 0x80 or more is part of a UTF-8 sequence; what it spells is checked once decoded.
                    if (value is '/' or '%' || (value < 0x80 && IsRefused((char)value)))
                    {
                        return false;
                    }

                    buffer[length++] = (byte)value;
                    i += 2;
                }
                else if (IsRefused(c))
                {
                    return false;
                }
                else if (c < 0x80)
                {
                    buffer[length++] = (byte)c;
                }
                else
                {
                    // A raw non-ASCII character (or surrogate pair): its UTF-8 bytes; a lone surrogate is not UTF-8.
                    var width = char.IsHighSurrogate(c) && i + 1 < target.Length && char.IsLowSurrogate(target[i + 1]) ? 2 : 1;
                    if (char.IsSurrogate(c) && width == 1)
                    {
                        return false;
                    }

                    length += Encoding.UTF8.GetBytes(target.Slice(i, width), buffer[length..]);
                    i += width - 1;
                }
            }

            return IsStrictUtf8(buffer[..length]);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    private static bool IsScheme(ReadOnlySpan<char> scheme)
    {
        if (!char.IsAsciiLetter(scheme[0]))
        {
            return false;
        }

        foreach (var c in scheme)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('+' or '-' or '.'))
            {
                return false;
            }
        }

        return true;
    }

    // UTF-8, and no control character once decoded: an escaped C1 control (%C2%85, NEL) is as refused as a raw one.
    private static bool IsStrictUtf8(ReadOnlySpan<byte> decoded)
    {
        while (!decoded.IsEmpty)
        {
            if (Rune.DecodeFromUtf8(decoded, out var rune, out var consumed) != OperationStatus.Done || Rune.IsControl(rune))
            {
                return false;
            }

            decoded = decoded[consumed..];
        }

        return true;
    }

    // Control characters are C0, DEL and C1 (U+0080 to U+009F).
    private static bool IsRefused(char c) => char.IsControl(c) || c is '\\' or ';';

    private static int HexValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };
}
