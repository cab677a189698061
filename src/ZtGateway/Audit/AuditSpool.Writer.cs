using System.Runtime.InteropServices;

namespace ZtGateway.Audit;

/// <summary>The writer: one background thread that moves committed records, in logical order, to their trail's sinks.</summary>
internal sealed unsafe partial class AuditSpool
{
    private void StartWriter()
    {
        _writer = new Thread(Run) { IsBackground = true, Name = "ztgw-audit-spool" };
        _writer.Start();
    }

    private void Run()
    {
        var spin = new SpinWait();
        while (true)
        {
            var head = Volatile.Read(ref _head);
            var reserved = head & ~ClosedBit;
            if (_read < reserved)
            {
                if (DeliverCommitted(reserved, out var full))
                {
                    spin.Reset();
                    if (!full)
                    {
                        Gather();
                    }
                }
                else
                {
                    // The next record is reserved but its copy is not finished: it is a matter of nanoseconds.
                    spin.SpinOnce();
                }

                continue;
            }

            if ((head & ClosedBit) != 0)
            {
                // Closed, and everything reserved before the close is delivered.
                return;
            }

            // Idle: say so, then look once more, so that an append either sees the flag or is seen here.
            _writerIdle = true;
            Interlocked.MemoryBarrier();
            if (Volatile.Read(ref _head) != head || _stopping)
            {
                _writerIdle = false;
                continue;
            }

            _wake.Wait(TimeSpan.FromSeconds(1));
            _wake.Reset();
            _writerIdle = false;
        }
    }

    // After a batch smaller than the largest write: lets the lines of the next GatherTime accumulate, so that a busy
    // gateway's lines reach the sinks in a few large writes a millisecond rather than one write (and one wake-up of this
    // thread) a line. The lines are safe in the ring meanwhile. Appends do not wake the writer while it gathers (it is
    // not idle); a flush, a close, or an append waiting for room in a full ring ends the wait at once.
    private void Gather()
    {
        if (Volatile.Read(ref _waiters) > 0 || _stopping)
        {
            return;
        }

        _wake.Wait(GatherTime);
        _wake.Reset();
    }

    // Hands the sinks the committed records from the cursor: contiguous ones of one sink set, up to BatchBytes, in one
    // write. Returns false when the record at the cursor is not committed yet; full says the batch stopped at
    // BatchBytes (more is waiting).
    private bool DeliverCommitted(long reserved, out bool full)
    {
        full = false;
        var capacity = _capacity;
        var start = _read;
        var position = start;
        var lines = 0;
        var used = 0;
        var set = -1;
        while (position < reserved)
        {
            var record = _ring + position % capacity;
            var magic = Volatile.Read(ref *(uint*)record);
            if (magic == PaddingMagic)
            {
                position += *(uint*)(record + 4);
                continue;
            }

            if (magic != RecordMagic)
            {
                break;
            }

            var length = (int)*(uint*)(record + 4);
            var recordSet = *(ushort*)(record + 16);
            if (lines > 0 && (recordSet != set || used + length > BatchBytes))
            {
                full = used + length > BatchBytes;
                break;
            }

            new ReadOnlySpan<byte>(record + RecordHeaderSize, length).CopyTo(_batch.AsSpan(used));
            used += length;
            lines++;
            set = recordSet;
            position += Align(RecordHeaderSize + length);
        }

        if (position == start)
        {
            return false;
        }

        if (lines > 0)
        {
            Hand(set, _batch.AsSpan(0, used), lines);
        }

        Release(start, position);
        return true;
    }

    // The writer never stops and never throws out of its loop: what cannot be handed to a trail goes to standard error.
    private void Hand(int set, ReadOnlySpan<byte> lines, int count)
    {
        var targets = Volatile.Read(ref _targets);
        var target = set < targets.Length ? Volatile.Read(ref targets[set]) : null;
        try
        {
            if (target is null)
            {
                AuditTrail.Undeliverable(lines, count, "its audit trail is closed", _logger, exception: null);
            }
            else
            {
                target.Deliver(lines, count);
            }
        }
#pragma warning disable CA1031 // a failure of any kind must not stop the writer: the lines go to standard error instead
        catch (Exception ex)
#pragma warning restore CA1031
        {
            AuditTrail.Undeliverable(lines, count, "the sinks failed", _logger, ex);
        }
    }

    // The sinks took [start, end): record it in the header (a crash from now on does not give these lines again), clear
    // their bytes, then free them for appends and wake those waiting.
    private void Release(long start, long end)
    {
        Volatile.Write(ref *(long*)(_header + DeliveredAt), end);
        Clear(start, end);
        _read = end;
        Interlocked.Exchange(ref _delivered, end);
        if (Volatile.Read(ref _waiters) > 0)
        {
            lock (_progress)
            {
                Monitor.PulseAll(_progress);
            }
        }
    }

    // Zeroes the ring between two logical offsets (at most one lap), in one or two pieces.
    private void Clear(long start, long end)
    {
        var capacity = _capacity;
        var at = start % capacity;
        var length = end - start;
        var first = Math.Min(length, capacity - at);
        NativeMemory.Clear(_ring + at, (nuint)first);
        if (length > first)
        {
            NativeMemory.Clear(_ring, (nuint)(length - first));
        }
    }
}
