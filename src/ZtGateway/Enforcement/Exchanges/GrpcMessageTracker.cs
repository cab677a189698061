namespace ZtGateway.Enforcement.Exchanges;

/// <summary>
/// Follows the length-prefixed messages of a gRPC response body (gRPC over HTTP/2: a 1-byte compressed flag and a
/// 4-byte big-endian length, then that many bytes), so that the stream can be ended between two messages and never
/// inside one. The messages are counted, never looked at.
/// </summary>
internal struct GrpcMessageTracker
{
    private const int PrefixLength = 5;

    private int _prefixSeen;
    private uint _length;
    private uint _left;
    private bool _inMessage;

    /// <summary>True between two messages (or before the first).</summary>
    public readonly bool AtBoundary => _prefixSeen == 0 && !_inMessage;

    /// <summary>
    /// Takes <paramref name="data"/> as the next bytes of the body and returns how many were consumed: all of them, or,
    /// when <paramref name="stopAtBoundary"/> is set, the bytes up to and including the end of the first message that
    /// ends within them (0 when the tracker is already at a boundary).
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
            if (_inMessage)
            {
                var take = (int)Math.Min(_left, (uint)(data.Length - offset));
                offset += take;
                _left -= (uint)take;
                if (_left == 0)
                {
                    _inMessage = false;
                    if (stopAtBoundary)
                    {
                        return offset;
                    }
                }

                continue;
            }

            var b = data[offset++];
            if (_prefixSeen == 0)
            {
                _length = 0;
            }
            else
            {
                _length = (_length << 8) | b;
            }

            if (++_prefixSeen == PrefixLength)
            {
                _prefixSeen = 0;
                _left = _length;
                _inMessage = _left > 0;
                if (!_inMessage && stopAtBoundary)
                {
                    return offset;
                }
            }
        }

        return offset;
    }
}
