using System.Globalization;
using System.Net;

namespace ZtGateway.Policy.Loading.Values;

/// <summary>
/// A listener URL (<c>http://0.0.0.0:8082</c>) reduced to what decides whether two listeners collide: the port and
/// the addresses the host binds.
/// </summary>
internal sealed class ListenAddress
{
    private static readonly IPAddress[] Loopback = [IPAddress.Loopback, IPAddress.IPv6Loopback];

    private ListenAddress(string text, int port, bool isWildcard, IReadOnlyList<IPAddress> addresses)
    {
        Text = text;
        IsHttps = text.StartsWith("https:", StringComparison.OrdinalIgnoreCase);
        Port = port;
        IsWildcard = isWildcard;
        Addresses = addresses;
    }

    /// <summary>The URL as written.</summary>
    public string Text { get; }

    public int Port { get; }

    /// <summary>The scheme is <c>https</c>: the listener needs a <c>tls:</c> section.</summary>
    public bool IsHttps { get; }

    /// <summary>Binds every interface.</summary>
    public bool IsWildcard { get; }

    public IReadOnlyList<IPAddress> Addresses { get; }

    /// <summary>Parses an absolute http(s) URL with an explicit port and no path; <paramref name="error"/> says what is wrong.</summary>
    public static bool TryParse(string text, out ListenAddress? address, out string? error)
    {
        address = null;
        error = null;
        var schemeEnd = text.IndexOf("://", StringComparison.Ordinal);
        var scheme = schemeEnd < 0 ? string.Empty : text[..schemeEnd];
        if (!scheme.Equals("http", StringComparison.OrdinalIgnoreCase) && !scheme.Equals("https", StringComparison.OrdinalIgnoreCase))
        {
            error = "must be an absolute http or https URL";
            return false;
        }

        var authority = text[(schemeEnd + 3)..];
        if (authority.EndsWith('/'))
        {
            authority = authority[..^1];
        }

        if (authority.IndexOfAny(['/', '?', '#', '@']) >= 0)
        {
            error = "must not have a path, query or user info";
            return false;
        }

        string host;
        string? portText;
        if (authority.StartsWith('['))
        {
            var close = authority.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                error = "has an unclosed '[' in its host";
                return false;
            }

            host = authority[1..close];
            var rest = authority[(close + 1)..];
            portText = rest.StartsWith(':') ? rest[1..] : rest.Length == 0 ? null : string.Empty;
            if (!IPAddress.TryParse(host, out _) || host.Contains('%', StringComparison.Ordinal))
            {
                error = $"has an invalid IPv6 host '[{host}]'";
                return false;
            }
        }
        else
        {
            var colon = authority.LastIndexOf(':');
            host = colon < 0 ? authority : authority[..colon];
            portText = colon < 0 ? null : authority[(colon + 1)..];
            if (host.Length == 0 || host.Contains(':', StringComparison.Ordinal))
            {
                error = "has an invalid host";
                return false;
            }
        }

        if (portText is null)
        {
            error = "must give an explicit port";
            return false;
        }

        if (portText.Length is 0 or > 5
            || !portText.All(char.IsAsciiDigit)
            || !int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out var port)
            || port > 65535)
        {
            error = $"has an invalid port '{portText}'";
            return false;
        }

        address = Classify(text, host, port);
        return true;
    }

    /// <summary>
    /// True when both cannot be bound at once: same port, and equal hosts or either a wildcard. Port 0 asks the system
    /// for a free port and never collides.
    /// </summary>
    public bool Overlaps(ListenAddress other)
    {
        if (Port == 0 || Port != other.Port)
        {
            return false;
        }

        return IsWildcard || other.IsWildcard || Addresses.Any(a => other.Addresses.Contains(a));
    }

    private static ListenAddress Classify(string text, string host, int port)
    {
        if (host is "*" or "+" || (IPAddress.TryParse(host, out var any) && (any.Equals(IPAddress.Any) || any.Equals(IPAddress.IPv6Any))))
        {
            return new ListenAddress(text, port, isWildcard: true, []);
        }

        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            return new ListenAddress(text, port, isWildcard: false, Loopback);
        }

        if (IPAddress.TryParse(host, out var ip))
        {
            return new ListenAddress(text, port, isWildcard: false, [ip]);
        }

        // Kestrel binds any other host name to every interface, so it collides like a wildcard.
        return new ListenAddress(text, port, isWildcard: true, []);
    }
}
