using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace ZtGateway.Enforcement.Refusals;

/// <summary>
/// The source a refusal allowance is kept for: an IPv4 address, or the /64 an IPv6 address belongs to (one host is
/// commonly handed a whole /64, so counting single IPv6 addresses would let it start afresh at will). A client
/// whose address could not be told (a trusted proxy sent a malformed <c>X-Forwarded-For</c>) counts as one
/// source, <see cref="Unknown"/>. A value type, so looking a source up allocates nothing.
/// </summary>
internal readonly record struct SourceKey(ulong High, ulong Low)
{
    /// <summary>Every request without a known client address.</summary>
    public static readonly SourceKey Unknown = new(ulong.MaxValue, ulong.MaxValue);

    // IPv4 sources sit in the IPv4-mapped range (::ffff:a.b.c.d), so Low is never zero for them and never
    // all ones: neither an IPv6 /64 (Low zero) nor Unknown can be mistaken for one.
    private const ulong MappedPrefix = 0xFFFF_0000_0000UL;

    public static SourceKey Of(IPAddress? address)
    {
        if (address is null)
        {
            return Unknown;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        Span<byte> bytes = stackalloc byte[16];
        if (address.AddressFamily == AddressFamily.InterNetwork && address.TryWriteBytes(bytes, out _))
        {
            return new SourceKey(0, MappedPrefix | BinaryPrimitives.ReadUInt32BigEndian(bytes));
        }

        return address.TryWriteBytes(bytes, out var written) && written == 16
            ? new SourceKey(BinaryPrimitives.ReadUInt64BigEndian(bytes), 0)
            : Unknown;
    }

    /// <summary><c>192.0.2.7</c>, <c>2001:db8:1:2::/64</c> or <c>unknown</c>.</summary>
    public override string ToString()
    {
        if (this == Unknown)
        {
            return "unknown";
        }

        Span<byte> bytes = stackalloc byte[16];
        if (Low != 0)
        {
            BinaryPrimitives.WriteUInt32BigEndian(bytes, (uint)Low);
            return new IPAddress(bytes[..4]).ToString();
        }

        BinaryPrimitives.WriteUInt64BigEndian(bytes, High);
        return new IPAddress(bytes).ToString() + "/64";
    }
}
