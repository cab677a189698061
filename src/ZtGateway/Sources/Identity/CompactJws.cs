namespace ZtGateway.Sources.Identity;

/// <summary>
/// The cheapest checks on a credential, made before it is parsed: its length and the shape of a compact JWS
/// (RFC 7515 section 7.1), three base64url parts joined by dots, header and payload not empty. Bearer tokens and
/// device-posture assertions both go through here, so a flood of junk costs a scan, not a parse or a signature check.
/// </summary>
internal static class CompactJws
{
    /// <summary>
    /// Longest credential looked at, in characters. Tokens of identity providers stay well below it (a Microsoft Entra
    /// token with a full group list is about 10 KiB); Kestrel caps all request headers together at 32 KiB.
    /// </summary>
    public const int MaxLength = 16 * 1024;

    /// <summary>Why <paramref name="credential"/> cannot be a compact JWS, or null when its shape is right.</summary>
    /// <remarks>An empty signature part passes: the caller refuses it as unsigned, with that reason.</remarks>
    public static string? ShapeFailure(ReadOnlySpan<char> credential)
    {
        if (credential.Length > MaxLength)
        {
            return "token longer than 16 KiB";
        }

        var dots = credential.Count('.');
        if (dots == 4)
        {
            return "encrypted tokens are not accepted";
        }

        if (dots != 2)
        {
            return "malformed token";
        }

        var headerEnd = credential.IndexOf('.');
        var payloadEnd = headerEnd + 1 + credential[(headerEnd + 1)..].IndexOf('.');
        if (headerEnd == 0 || payloadEnd == headerEnd + 1)
        {
            return "malformed token";
        }

        foreach (var c in credential)
        {
            if (c != '.' && !char.IsAsciiLetterOrDigit(c) && c != '-' && c != '_')
            {
                return "malformed token";
            }
        }

        return null;
    }
}
