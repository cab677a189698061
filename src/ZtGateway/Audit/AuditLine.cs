using System.Buffers;
using System.Text.Json;

namespace ZtGateway.Audit;

/// <summary>
/// A reusable buffer and JSON writer for rendering one audit line, kept per thread so that the allow path
/// renders its line without allocating. <see cref="Complete"/> ends the line; the span it returns is valid
/// until the line is returned.
/// </summary>
internal sealed class AuditLine
{
    // Lines are about a kilobyte; a buffer that grew past this for an unusual line is not kept.
    private const int KeepCapacity = 16 * 1024;

    [ThreadStatic]
    private static AuditLine? t_cached;

    private readonly ArrayBufferWriter<byte> _buffer = new(4096);

    private AuditLine()
    {
        Json = new Utf8JsonWriter(_buffer);
    }

    public Utf8JsonWriter Json { get; }

    public static AuditLine Rent()
    {
        var line = t_cached;
        if (line is null)
        {
            return new AuditLine();
        }

        t_cached = null;
        return line;
    }

    public static void Return(AuditLine line)
    {
        if (line._buffer.Capacity > KeepCapacity)
        {
            return;
        }

        line.Json.Reset();
        line._buffer.ResetWrittenCount();
        t_cached = line;
    }

    /// <summary>Writes <paramref name="bytes"/> as the whole line (they end with the line feed) and returns the copy, to be completed in place.</summary>
    public Span<byte> WriteRaw(ReadOnlySpan<byte> bytes)
    {
        var target = _buffer.GetSpan(bytes.Length)[..bytes.Length];
        bytes.CopyTo(target);
        _buffer.Advance(bytes.Length);
        return target;
    }

    /// <summary>Flushes the JSON, adds the line feed and returns the whole line.</summary>
    public ReadOnlySpan<byte> Complete()
    {
        Json.Flush();
        _buffer.Write("\n"u8);
        return _buffer.WrittenSpan;
    }
}
