namespace ZtGateway.Policy.Engine;

/// <summary>
/// The canonical-path check made before any route is matched. A path that could be read two ways (by the
/// gateway and, after another decode or normalisation, by the upstream) never matches a route.
/// </summary>
internal static class RequestPath
{
    /// <summary>
    /// True when <paramref name="path"/> starts with <c>/</c>, has no empty, <c>.</c> or <c>..</c> segment (one
    /// trailing slash is allowed), no backslash, no control character, and no percent-encoded slash, backslash,
    /// dot or control character.
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

            var c = path[i];
            if (c < 0x20 || c == 0x7F || c == '\\')
            {
                return false;
            }

            if (c == '%' && i + 2 < path.Length && IsEncodedTrick(path[i + 1], path[i + 2]))
            {
                return false;
            }
        }

        return true;
    }

    // The listener has decoded the path once; whatever is still percent-encoded would be decoded by the next
    // hop, so an encoded separator, dot or control character there is a second path hiding in the first.
    private static bool IsEncodedTrick(char high, char low)
    {
        var h = HexValue(high);
        var l = HexValue(low);
        if (h < 0 || l < 0)
        {
            return false;
        }

        var value = (h << 4) | l;
        return value is '/' or '\\' or '.' or < 0x20 or 0x7F;
    }

    private static int HexValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };
}
