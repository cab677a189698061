using System.Buffers.Binary;
using System.Security.Cryptography;

namespace ZtGateway.Enforcement;

/// <summary>
/// Decision ids: UUID version 7 (RFC 9562 section 5.7), 48 bits of Unix milliseconds followed by 74 random
/// bits, in the canonical lowercase form. The random bits come from the operating system's generator, drawn a
/// block at a time per thread, so issuing an id costs no system call on the request path.
/// </summary>
internal static class DecisionIds
{
    private const int IdBytes = 16;
    private const int BlockBytes = IdBytes * 64;

    [ThreadStatic]
    private static byte[]? t_block;

    [ThreadStatic]
    private static int t_next;

    public static string Next(DateTimeOffset now)
    {
        var block = t_block;
        if (block is null || t_next == BlockBytes)
        {
            block = t_block ??= new byte[BlockBytes];
            RandomNumberGenerator.Fill(block);
            t_next = 0;
        }

        Span<byte> id = stackalloc byte[IdBytes];
        block.AsSpan(t_next, IdBytes).CopyTo(id);
        block.AsSpan(t_next, IdBytes).Clear();
        t_next += IdBytes;

        Span<byte> millis = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(millis, Math.Max(0, now.ToUnixTimeMilliseconds()));
        millis[2..].CopyTo(id);
        id[6] = (byte)(0x70 | (id[6] & 0x0F));
        id[8] = (byte)(0x80 | (id[8] & 0x3F));
        return new Guid(id, bigEndian: true).ToString();
    }
}
