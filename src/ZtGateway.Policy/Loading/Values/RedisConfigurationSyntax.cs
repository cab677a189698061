using System.Globalization;
using System.Net;

namespace ZtGateway.Policy.Loading.Values;

/// <summary>
/// Checks a StackExchange.Redis configuration string without connecting: comma-separated <c>host[:port]</c>
/// endpoints (at least one) and <c>name=value</c> options from the set the gateway supports. The runtime parses the
/// same string with StackExchange.Redis; a test keeps the two in agreement.
/// </summary>
internal static class RedisConfigurationSyntax
{
    private enum Kind
    {
        Text,
        Bool,
        Int,
    }

    // The options of StackExchange.Redis a gateway may set, by kind of value. Names compare ignoring case, as the
    // client does. Left out on purpose: allowAdmin (the gateway never needs admin commands), channelPrefix (the
    // prefix is sharedState.prefix), serviceName (sentinel discovery is not supported) and the obsolete ones.
    private static readonly Dictionary<string, Kind> Options = new(StringComparer.OrdinalIgnoreCase)
    {
        ["user"] = Kind.Text,
        ["password"] = Kind.Text,
        ["ssl"] = Kind.Bool,
        ["sslHost"] = Kind.Text,
        ["sslProtocols"] = Kind.Text,
        ["checkCertificateRevocation"] = Kind.Bool,
        ["name"] = Kind.Text,
        ["abortConnect"] = Kind.Bool,
        ["connectTimeout"] = Kind.Int,
        ["connectRetry"] = Kind.Int,
        ["syncTimeout"] = Kind.Int,
        ["asyncTimeout"] = Kind.Int,
        ["keepAlive"] = Kind.Int,
        ["defaultDatabase"] = Kind.Int,
        ["resolveDns"] = Kind.Bool,
    };

    /// <summary>The option names accepted, for messages and documentation.</summary>
    public static IEnumerable<string> OptionNames => Options.Keys;

    /// <summary>Null when <paramref name="text"/> is a usable configuration string, else why not.</summary>
    public static string? Check(string text)
    {
        if (text.Trim().Length == 0)
        {
            return "must not be empty";
        }

        var endpoints = 0;
        foreach (var raw in text.Split(','))
        {
            var part = raw.Trim();
            if (part.Length == 0)
            {
                return "has an empty entry between commas";
            }

            var equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals < 0)
            {
                if (!IsEndpoint(part))
                {
                    return $"names an endpoint '{part}' that is not host[:port] (a port from 1 to 65535; IPv6 in brackets)";
                }

                endpoints++;
                continue;
            }

            var name = part[..equals].Trim();
            var value = part[(equals + 1)..].Trim();
            if (!Options.TryGetValue(name, out var kind))
            {
                return $"has an unsupported option '{name}' (supported: {string.Join(", ", Options.Keys)})";
            }

            var valid = kind switch
            {
                Kind.Bool => bool.TryParse(value, out _),
                Kind.Int => int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out _),
                _ => value.Length > 0,
            };
            if (!valid)
            {
                // Never echo a password back into a log or a terminal.
                var shown = name.Equals("password", StringComparison.OrdinalIgnoreCase) ? "(hidden)" : $"'{value}'";
                return kind switch
                {
                    Kind.Bool => $"option '{name}' must be true or false, not {shown}",
                    Kind.Int => $"option '{name}' must be a whole number, not {shown}",
                    _ => $"option '{name}' must not be empty",
                };
            }
        }

        return endpoints == 0 ? "names no endpoint (host[:port])" : null;
    }

    private static bool IsEndpoint(string text)
    {
        string host;
        var port = "6379";
        if (text.StartsWith('['))
        {
            var close = text.IndexOf(']', StringComparison.Ordinal);
            if (close < 0 || !IPAddress.TryParse(text[1..close], out _))
            {
                return false;
            }

            host = text[1..close];
            if (close + 1 < text.Length)
            {
                if (text[close + 1] != ':')
                {
                    return false;
                }

                port = text[(close + 2)..];
            }
        }
        else
        {
            var colon = text.LastIndexOf(':');
            if (colon >= 0 && text.IndexOf(':', StringComparison.Ordinal) != colon)
            {
                return false; // a bare IPv6 address: write it in brackets
            }

            host = colon < 0 ? text : text[..colon];
            if (colon >= 0)
            {
                port = text[(colon + 1)..];
            }

            if (host.Length == 0 || Uri.CheckHostName(host) is UriHostNameType.Unknown or UriHostNameType.IPv6)
            {
                return false;
            }
        }

        return host.Length > 0
            && int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var number)
            && number is >= 1 and <= 65535;
    }

    /// <summary>Null when <paramref name="prefix"/> can prefix keys and channels, else why not.</summary>
    public static string? CheckPrefix(string prefix)
    {
        if (prefix.Length is 0 or > 64)
        {
            return "must be 1 to 64 characters";
        }

        // No ':' (the separator of our key names) and no glob characters (patterns match on the prefix).
        foreach (var c in prefix)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('-' or '_' or '.'))
            {
                return "may hold only letters, digits, '-', '_' and '.'";
            }
        }

        return null;
    }
}
