using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace ZtGateway.Policy.Loading.Values;

/// <summary>Parses CIDR networks strictly: a bare address is a host network, host bits must be clear.</summary>
internal static class CidrParser
{
    /// <summary>Parses <paramref name="text"/>; on failure <paramref name="detail"/> may say why (null when nothing more to say).</summary>
    public static bool TryParse(string text, out IPNetwork network, out string? detail)
    {
        network = default;
        detail = null;
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        var addressText = slash < 0 ? text : text[..slash];
        if (!TryParseAddress(addressText, out var address))
        {
            return false;
        }

        var maxPrefix = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        var prefix = maxPrefix;
        if (slash >= 0)
        {
            var prefixText = text[(slash + 1)..];
            if (prefixText.Length is 0 or > 3
                || !prefixText.All(char.IsAsciiDigit)
                || !int.TryParse(prefixText, NumberStyles.None, CultureInfo.InvariantCulture, out prefix)
                || prefix > maxPrefix)
            {
                return false;
            }
        }

        // IPNetwork itself quietly clears host bits; a written "10.0.0.1/16" is more likely a typo than a wish.
        var masked = new IPNetwork(Mask(address, prefix), prefix);
        if (!masked.BaseAddress.Equals(address))
        {
            detail = $"host bits are set (use {masked})";
            return false;
        }

        network = masked;
        return true;
    }

    private static bool TryParseAddress(string text, out IPAddress address)
    {
        address = IPAddress.None;

        // IPAddress.TryParse takes shorthand like "10" or "10.1"; a policy should say all four parts.
        if (text.Contains(':', StringComparison.Ordinal))
        {
            return !text.Contains('%', StringComparison.Ordinal)
                && IPAddress.TryParse(text, out address!)
                && address.AddressFamily == AddressFamily.InterNetworkV6;
        }

        var parts = text.Split('.');
        return parts.Length == 4
            && parts.All(p => p.Length is > 0 and <= 3 && p.All(char.IsAsciiDigit))
            && IPAddress.TryParse(text, out address!)
            && address.AddressFamily == AddressFamily.InterNetwork;
    }

    private static IPAddress Mask(IPAddress address, int prefix)
    {
        var bytes = address.GetAddressBytes();
        for (var i = 0; i < bytes.Length; i++)
        {
            var bits = Math.Clamp(prefix - (i * 8), 0, 8);
            bytes[i] &= (byte)(0xFF << (8 - bits));
        }

        return new IPAddress(bytes);
    }
}
