using System.Text;

namespace ZtGateway.Runtime;

/// <summary>
/// The small bodies the management listener takes from other systems (Security Event Tokens, pushed posture assertions):
/// read whole up to a bound, never more, and told apart by media type.
/// </summary>
internal static class RequestBodies
{
    /// <summary>The body as UTF-8 text; null when it is longer than <paramref name="maxBytes"/> (reading stops there).</summary>
    public static async Task<string?> ReadTextAsync(Stream body, int maxBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        var buffer = new byte[maxBytes + 1];
        var total = 0;
        int read;
        while (total < buffer.Length && (read = await body.ReadAsync(buffer.AsMemory(total), cancellationToken)) > 0)
        {
            total += read;
        }

        return total > maxBytes ? null : Encoding.UTF8.GetString(buffer, 0, total);
    }

    /// <summary>True when the media type of <paramref name="contentType"/> (parameters aside, any case) is one of <paramref name="mediaTypes"/>.</summary>
    public static bool HasMediaType(string? contentType, params ReadOnlySpan<string> mediaTypes)
    {
        if (contentType is null)
        {
            return false;
        }

        var semicolon = contentType.IndexOf(';', StringComparison.Ordinal);
        var mediaType = (semicolon < 0 ? contentType.AsSpan() : contentType.AsSpan(0, semicolon)).Trim();
        foreach (var candidate in mediaTypes)
        {
            if (mediaType.Equals(candidate, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}
