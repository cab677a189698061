using System.Runtime.InteropServices;

namespace ZtGateway.Audit;

/// <summary>Recovery at start: what a crash left in the ring goes to the sinks before the spool takes new lines.</summary>
internal sealed unsafe partial class AuditSpool
{
    /// <summary>
    /// Gives <paramref name="target"/> every valid record the spool holds beyond what the sinks took (none when the last
    /// run closed it cleanly), in order, then clears the ring, makes it the capacity asked for, and starts the writer.
    /// Called once, before the first append.
    /// </summary>
    /// <remarks>
    /// The scan starts at the delivered offset and reads at most one lap. A record is valid when its magic, its stored
    /// offset (equal to where it lies: a record of an earlier lap fails), its length and its checksum all hold. A record
    /// the crash cut off (never committed, or torn) is stepped over 8 bytes at a time to the next valid one; its
    /// non-zero bytes are counted in <see cref="SpoolRecovery.SkippedBytes"/>.
    /// </remarks>
    public SpoolRecovery Recover(IAuditSpoolTarget target)
    {
        ArgumentNullException.ThrowIfNull(target);
        if (_writer is not null || Volatile.Read(ref _disposed) != 0)
        {
            throw new InvalidOperationException("The audit spool is recovered once, before it takes lines.");
        }

        var delivered = *(long*)(_header + DeliveredAt);
        var clean = *(uint*)(_header + CleanAt) == 1;
        var recovery = clean ? new SpoolRecovery(Ran: false, 0, 0) : Scan(delivered, target, out delivered);
        if (recovery.SkippedBytes > 0)
        {
            Log.Skipped(_logger, Path, recovery.SkippedBytes);
        }

        if (_capacity != _requestedCapacity)
        {
            Unmap();
            _stream.SetLength(HeaderSize + _requestedCapacity);
            Map(_requestedCapacity);
            ClearRing();
        }
        else if (!clean)
        {
            ClearRing();
        }

        // Running: a crash from now on leaves the flag unset, and the next start scans.
        Format(delivered, clean: false);
        _view.Flush();
        _head = delivered;
        _read = delivered;
        _delivered = delivered;
        StartWriter();
        return recovery;
    }

    private SpoolRecovery Scan(long delivered, IAuditSpoolTarget target, out long end)
    {
        var capacity = _capacity;
        var limit = delivered + capacity;
        var position = delivered;
        var lines = 0;
        var batched = 0;
        var used = 0;
        long skipped = 0;
        end = delivered;
        while (position < limit)
        {
            var at = position % capacity;
            var record = _ring + at;
            var magic = *(uint*)record;
            if (magic == PaddingMagic && *(uint*)(record + 4) == capacity - at)
            {
                position += capacity - at;
                continue;
            }

            if (magic == RecordMagic && Validate(record, at, out var length, out var offset))
            {
                var size = Align(RecordHeaderSize + length);
                if (offset != position)
                {
                    // A whole record of an earlier lap: what was there before, not what the crash cut off.
                    position += size;
                    continue;
                }

                if (used + length > BatchBytes)
                {
                    target.Deliver(_batch.AsSpan(0, used), batched);
                    used = 0;
                    batched = 0;
                }

                new ReadOnlySpan<byte>(record + RecordHeaderSize, length).CopyTo(_batch.AsSpan(used));
                used += length;
                batched++;
                lines++;
                position += size;
                end = position;
                continue;
            }

            if (*(ulong*)record != 0)
            {
                skipped += 8;
            }

            position += 8;
        }

        if (batched > 0)
        {
            target.Deliver(_batch.AsSpan(0, used), batched);
        }

        return new SpoolRecovery(Ran: true, lines, skipped);
    }

    // Length in range, the record within the ring, the checksum right, the payload one line.
    private bool Validate(byte* record, long at, out int length, out long offset)
    {
        length = (int)Math.Min(*(uint*)(record + 4), int.MaxValue);
        offset = *(long*)(record + 8);
        if (length == 0 || length > MaxLineLength || at + Align(RecordHeaderSize + length) > _capacity)
        {
            return false;
        }

        var payload = new ReadOnlySpan<byte>(record + RecordHeaderSize, length);
        return *(uint*)(record + 20) == Checksum(record, payload) && payload[^1] == (byte)'\n';
    }

    // Clears the whole ring, touching only the pieces that are not zero already (a new file's ring is a hole).
    private void ClearRing()
    {
        const int Piece = 64 * 1024;
        for (long at = 0; at < _capacity; at += Piece)
        {
            var length = (int)Math.Min(Piece, _capacity - at);
            var piece = new Span<byte>(_ring + at, length);
            if (piece.ContainsAnyExcept((byte)0))
            {
                NativeMemory.Clear(_ring + at, (nuint)length);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 504, Level = LogLevel.Warning,
            Message = "Audit spool {Path}: skipped {Bytes} byte(s) that held no valid record (a line being copied when the process died, or damage)")]
        public static partial void Skipped(ILogger logger, string path, long bytes);
    }
}
