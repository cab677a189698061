namespace ZtGateway.Enforcement.Exchanges;

/// <summary>
/// Follows the frames of one direction of a WebSocket connection (RFC 6455 section 5.2) byte by byte, so that a frame
/// of the gateway's own (the close frame that ends the exchange) can be put between two frames and never inside one.
/// It reads only the headers: 2 bytes, then 2 or 8 bytes of extended payload length (for a 7-bit length of 126 or
/// 127), then 4 bytes of masking key when the mask bit is set (frames from a server are unmasked), 2 to 14 bytes in
/// all; the payload is counted, never looked at.
/// </summary>
internal struct WebSocketFrameTracker
{
    private const int MaxHeader = 14;

    // Bytes of the current header seen so far (0 at a frame boundary, or while a payload is being counted).
    private int _headerSeen;
    private int _headerLength;
    private byte _second;
    private ulong _extended;
    private ulong _payloadLeft;
    private bool _inPayload;

    /// <summary>True between two frames: the bytes seen so far end exactly at the end of a frame (or nothing was seen).</summary>
    public readonly bool AtBoundary => _headerSeen == 0 && !_inPayload;

    /// <summary>
    /// Takes <paramref name="data"/> as the next bytes of the direction and returns how many were consumed: all of
    /// them, or, when <paramref name="stopAtBoundary"/> is set, the bytes up to and including the end of the first frame
    /// that ends within them (0 when the tracker is already at a boundary).
    /// </summary>
    public int Advance(ReadOnlySpan<byte> data, bool stopAtBoundary = false)
    {
        if (stopAtBoundary && AtBoundary)
        {
            return 0;
        }

        var offset = 0;
        while (offset < data.Length)
        {
            if (_inPayload)
            {
                var available = (ulong)(data.Length - offset);
                var take = _payloadLeft < available ? (int)_payloadLeft : data.Length - offset;
                offset += take;
                _payloadLeft -= (ulong)take;
                if (_payloadLeft == 0)
                {
                    _inPayload = false;
                    if (stopAtBoundary)
                    {
                        return offset;
                    }
                }

                continue;
            }

            var b = data[offset++];
            HeaderByte(b);
            if (_headerSeen == _headerLength)
            {
                // The header is whole: what follows is its payload, or, for an empty one, the next frame.
                _headerSeen = 0;
                _payloadLeft = _extended;
                _inPayload = _payloadLeft > 0;
                if (!_inPayload && stopAtBoundary)
                {
                    return offset;
                }
            }
        }

        return offset;
    }

    private void HeaderByte(byte b)
    {
        var index = _headerSeen++;
        switch (index)
        {
            case 0:
                _headerLength = MaxHeader;
                _extended = 0;
                return;
            case 1:
                _second = b;
                var length7 = b & 0x7F;
                var mask = (b & 0x80) != 0 ? 4 : 0;
                (_headerLength, _extended) = length7 switch
                {
                    126 => (4 + mask, 0UL),
                    127 => (10 + mask, 0UL),
                    _ => (2 + mask, (ulong)length7),
                };
                return;
        }

        var length7Of = _second & 0x7F;
        var extendedBytes = length7Of == 126 ? 2 : length7Of == 127 ? 8 : 0;
        if (index < 2 + extendedBytes)
        {
            _extended = (_extended << 8) | b;
        }

        // Otherwise a byte of the masking key: counted, not kept.
    }

    /// <summary>
    /// Writes an unmasked close frame (a server's) with <paramref name="status"/> and an ASCII <paramref name="reason"/>
    /// of at most 123 bytes to <paramref name="destination"/> and returns its length.
    /// </summary>
    public static int WriteClose(Span<byte> destination, ushort status, string reason)
    {
        ArgumentNullException.ThrowIfNull(reason);
        var reasonLength = Math.Min(reason.Length, 123);
        destination[0] = 0x88;
        destination[1] = (byte)(2 + reasonLength);
        destination[2] = (byte)(status >> 8);
        destination[3] = (byte)status;
        for (var i = 0; i < reasonLength; i++)
        {
            destination[4 + i] = (byte)reason[i];
        }

        return 4 + reasonLength;
    }

    /// <summary>The largest close frame <see cref="WriteClose"/> writes.</summary>
    public const int MaxCloseFrame = 4 + 123;
}
