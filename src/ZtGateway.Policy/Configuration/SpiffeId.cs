namespace ZtGateway.Policy.Configuration;

/// <summary>
/// The syntax of SPIFFE ids (SPIFFE standard, "SPIFFE-ID"): <c>spiffe://TRUST-DOMAIN/PATH</c>. One implementation for
/// the loader (<c>identity.workloadCertificates.trustDomains</c>) and for the gateway reading X.509-SVIDs.
/// </summary>
public static class SpiffeId
{
    /// <summary>The scheme and authority separator every SPIFFE id starts with, in lower case.</summary>
    public const string Prefix = "spiffe://";

    /// <summary>Longest SPIFFE id accepted, in characters (the standard's limit in bytes, for ASCII ids).</summary>
    public const int MaxLength = 2048;

    /// <summary>Longest trust domain name accepted.</summary>
    public const int MaxTrustDomainLength = 255;

    /// <summary>How a trust domain is written, for messages.</summary>
    public const string TrustDomainHint = "use lower-case letters, digits, '.', '-' and '_', as in corp.example; no scheme, port or path";

    /// <summary>
    /// True for a trust domain name: 1 to 255 characters, each a lower-case ASCII letter, a digit, <c>.</c>, <c>-</c> or
    /// <c>_</c>. A port, user info, upper case and percent-encoding are thereby refused.
    /// </summary>
    public static bool IsTrustDomain(ReadOnlySpan<char> value)
    {
        if (value.IsEmpty || value.Length > MaxTrustDomainLength)
        {
            return false;
        }

        foreach (var c in value)
        {
            if (!(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '.' or '-' or '_'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Checks that <paramref name="id"/> names a workload: the <c>spiffe://</c> scheme, a valid trust domain and a
    /// non-empty path whose segments are non-empty, not <c>.</c> or <c>..</c>, and hold only letters, digits, <c>.</c>,
    /// <c>-</c> and <c>_</c> (so no query, fragment, percent-encoding or trailing slash).
    /// </summary>
    /// <param name="id">The id as written (an X.509-SVID's URI SAN).</param>
    /// <param name="trustDomain">The trust domain, when the id is valid.</param>
    /// <returns>Null when valid; else why not, in a few words that never repeat the id.</returns>
    public static string? CheckWorkloadId(string id, out string trustDomain)
    {
        ArgumentNullException.ThrowIfNull(id);
        trustDomain = string.Empty;
        if (!id.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return "does not start with spiffe:// in lower case";
        }

        if (id.Length > MaxLength)
        {
            return $"is longer than {MaxLength} characters";
        }

        var rest = id.AsSpan(Prefix.Length);
        var slash = rest.IndexOf('/');
        var domain = slash < 0 ? rest : rest[..slash];
        if (domain.IsEmpty)
        {
            return "has an empty trust domain";
        }

        if (!IsTrustDomain(domain))
        {
            return "has an invalid trust domain (lower-case letters, digits, '.', '-' and '_' only; no port or user info)";
        }

        ReadOnlySpan<char> path = slash < 0 ? default : rest[(slash + 1)..];
        if (path.IsEmpty)
        {
            return "has no path: it names a trust domain, not a workload";
        }

        foreach (var range in path.Split('/'))
        {
            var segment = path[range];
            if (segment.IsEmpty)
            {
                return "has an empty path segment";
            }

            if (segment is "." or "..")
            {
                return "has a '.' or '..' path segment";
            }

            foreach (var c in segment)
            {
                if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_'))
                {
                    return "has a path character other than letters, digits, '.', '-' and '_' (no query, fragment or percent-encoding)";
                }
            }
        }

        trustDomain = domain.ToString();
        return null;
    }
}
