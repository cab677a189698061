using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ZtGateway.Audit;

/// <summary>The durable sinks (<c>stdout</c>, <c>file:</c>) of one audit trail, as the spool's writer hands them lines.</summary>
internal interface IAuditSpoolTarget
{
    /// <summary>
    /// Writes <paramref name="lines"/>, <paramref name="count"/> whole lines each ending in a line feed, to every durable
    /// sink, in one write per sink. A sink that fails is handled here (counted, logged, its lines to standard error).
    /// </summary>
    void Deliver(ReadOnlySpan<byte> lines, int count);
}

/// <summary>What a start found in the spool.</summary>
/// <param name="Ran">False when the last run closed the spool cleanly (everything delivered) or the file is new.</param>
/// <param name="Lines">The lines given to the sinks again: at least once, so some may already be there.</param>
/// <param name="SkippedBytes">Bytes that held no valid record: a record cut off by the crash, or damage.</param>
internal readonly record struct SpoolRecovery(bool Ran, int Lines, long SkippedBytes);

/// <summary>
/// The crash-safe audit spool (decision 0007): every line of the durable sinks is copied into a memory-mapped file
/// before the response it records starts, and one background writer moves the lines to the sinks in large writes.
/// The mapping is shared with the kernel, which keeps its pages when the process dies, so a line committed here
/// survives a crash of the gateway; the next start gives the sinks what they had not been given (<see cref="Recover"/>).
/// </summary>
/// <remarks>
/// <para>
/// The file is a 4 KiB header (signature, format version, a clean-close flag, the ring's capacity and the logical
/// offset up to which the sinks took every line) and a ring of <c>capacity</c> bytes. Logical offsets grow forever;
/// a record sits at <c>offset % capacity</c>, 8-byte aligned, and never straddles the ring's end: a padding record
/// fills the tail first, reserved together with the record. A record is a magic (written last: the commit), the
/// payload length, its own logical offset, the sink-set id, a CRC-32C of those fields and the payload, then the
/// payload (one line with its line feed).
/// </para>
/// <para>
/// Invariant: every byte of the ring that is not reserved is zero. The writer clears what the sinks took before it
/// frees it, and a start clears the ring after recovery, so a non-zero magic at the writer's cursor is always a
/// committed record of the current lap. An append takes no lock and makes no system call: a compare-and-swap on the
/// head, a copy, a checksum and the commit; it wakes the writer only when the writer said it is idle. When the ring is
/// full it waits for the writer (back-pressure) and never drops a line.
/// </para>
/// </remarks>
internal sealed unsafe partial class AuditSpool : IDisposable
{
    /// <summary>Bytes of the header page before the ring.</summary>
    public const int HeaderSize = 4096;

    /// <summary>Bytes of a record's header before its payload.</summary>
    public const int RecordHeaderSize = 24;

    /// <summary>The most bytes of lines handed to a sink in one write.</summary>
    public const int BatchBytes = 256 * 1024;

    /// <summary>How long the writer lets lines accumulate after a batch smaller than <see cref="BatchBytes"/>.</summary>
    public static readonly TimeSpan GatherTime = TimeSpan.FromMilliseconds(1);

    /// <summary>The smallest ring the spool accepts (tests use small ones; the configuration starts at 1 MiB).</summary>
    public const long MinCapacity = 4096;

    /// <summary>The largest ring the spool accepts: 4 GiB.</summary>
    public const long MaxCapacity = 4L * 1024 * 1024 * 1024;

    private const int FormatVersion = 1;
    private const uint RecordMagic = 0xA5D1_0C01;
    private const uint PaddingMagic = 0xA5D1_0CFF;

    // Set on the head when the spool closes: no reservation succeeds afterwards.
    private const long ClosedBit = 1L << 62;

    // Header fields.
    private const int SignatureAt = 0;
    private const int VersionAt = 8;
    private const int CleanAt = 12;
    private const int CapacityAt = 16;
    private const int DeliveredAt = 24;

    private static readonly ulong Signature = BinaryPrimitives.ReadUInt64LittleEndian("ZTSPOOL\n"u8);

    private readonly FileStream _stream;
    private readonly long _requestedCapacity;
    private readonly ILogger _logger;
    private readonly object _progress = new();
    // No spinning before it blocks: the writer waits on it only when it has nothing to do or chose to gather.
    private readonly ManualResetEventSlim _wake = new(false, spinCount: 0);
    private readonly Lock _targetsLock = new();
    private readonly byte[] _batch = GC.AllocateUninitializedArray<byte>(BatchBytes);
    private MemoryMappedFile _map = null!;
    private MemoryMappedViewAccessor _view = null!;
    private byte* _header;
    private byte* _ring;
    private long _capacity;
    private IAuditSpoolTarget?[] _targets = new IAuditSpoolTarget?[8];
    private Thread? _writer;

    // The next logical offset to reserve, with ClosedBit once closed.
    private long _head;

    // Every record below it reached the sinks and its bytes are zero again.
    private long _delivered;

    // The writer's cursor; only the writer thread touches it once started.
    private long _read;

    private volatile bool _writerIdle;
    private volatile bool _stopping;
    private int _waiters;
    private int _disposed;

    private AuditSpool(FileStream stream, string path, long requestedCapacity, long fileCapacity, ILogger logger)
    {
        _stream = stream;
        Path = path;
        _requestedCapacity = requestedCapacity;
        _logger = logger;
        Map(fileCapacity);
    }

    /// <summary>The spool file.</summary>
    public string Path { get; }

    /// <summary>Bytes of the ring.</summary>
    public long Capacity => _capacity;

    /// <summary>
    /// The longest line the spool takes: half the ring less a record header, at most <see cref="BatchBytes"/>, so that
    /// a record always fits once the writer caught up. A longer line is written to the sinks directly by its trail.
    /// </summary>
    public int MaxLineLength => (int)Math.Min(_capacity / 2 - RecordHeaderSize, BatchBytes);

    /// <summary>Adds a trail's durable sinks; its records carry the id returned.</summary>
    public ushort Register(IAuditSpoolTarget target)
    {
        ArgumentNullException.ThrowIfNull(target);
        lock (_targetsLock)
        {
            var targets = _targets;
            for (var id = 1; id < targets.Length; id++)
            {
                if (targets[id] is null)
                {
                    Volatile.Write(ref targets[id], target);
                    return (ushort)id;
                }
            }

            if (targets.Length > ushort.MaxValue)
            {
                throw new InvalidOperationException("Every audit spool sink-set id is in use.");
            }

            var grown = new IAuditSpoolTarget?[Math.Min(targets.Length * 2, ushort.MaxValue + 1)];
            targets.CopyTo(grown, 0);
            grown[targets.Length] = target;
            Volatile.Write(ref _targets, grown);
            return (ushort)targets.Length;
        }
    }

    /// <summary>Removes a trail; lines of its id that arrive later go to standard error, or to the trail that took the id next.</summary>
    public void Unregister(ushort id)
    {
        lock (_targetsLock)
        {
            if (id < _targets.Length)
            {
                Volatile.Write(ref _targets[id], null);
            }
        }
    }

    /// <summary>
    /// Commits one line (ending in its line feed) of sink set <paramref name="set"/>; once this returns, the line
    /// survives a crash of the process. Waits while the ring is full. Returns false, having written nothing, when the
    /// line is longer than <see cref="MaxLineLength"/> or the spool is closed: the caller writes it itself.
    /// </summary>
    public bool TryAppend(ushort set, ReadOnlySpan<byte> line)
    {
        if (_writer is null)
        {
            throw new InvalidOperationException("The audit spool takes lines once it is recovered.");
        }

        if (line.Length > MaxLineLength)
        {
            return false;
        }

        var capacity = _capacity;
        var size = Align(RecordHeaderSize + line.Length);
        long head;
        long need;
        while (true)
        {
            head = Volatile.Read(ref _head);
            if ((head & ClosedBit) != 0)
            {
                return false;
            }

            var tail = capacity - head % capacity;
            need = size <= tail ? size : tail + size;
            var free = head + need - capacity;
            if (Volatile.Read(ref _delivered) < free)
            {
                WaitForDelivered(free);
                continue;
            }

            if (Interlocked.CompareExchange(ref _head, head + need, head) == head)
            {
                break;
            }
        }

        var at = head % capacity;
        if (need != size)
        {
            // The record does not fit before the ring's end: the tail becomes padding, committed at once.
            Volatile.Write(ref *(ulong*)(_ring + at), PaddingMagic | ((ulong)(capacity - at) << 32));
            head += capacity - at;
            at = 0;
        }

        var record = _ring + at;
        *(uint*)(record + 4) = (uint)line.Length;
        *(long*)(record + 8) = head;
        *(uint*)(record + 16) = set;
        line.CopyTo(new Span<byte>(record + RecordHeaderSize, line.Length));
        *(uint*)(record + 20) = Checksum(record, line);

        // The commit, and a full fence: either the writer sees it, or this thread sees the writer idle.
        Interlocked.Exchange(ref *(uint*)record, RecordMagic);
        if (_writerIdle)
        {
            Wake();
        }

        return true;
    }

    /// <summary>Returns once every line committed before the call reached the sinks (or was reported undeliverable).</summary>
    public void Flush()
    {
        var target = Volatile.Read(ref _head) & ~ClosedBit;
        if (Volatile.Read(ref _delivered) >= target || _writer is null)
        {
            return;
        }

        Wake();
        WaitForDelivered(target);
    }

    /// <summary>
    /// Closes the spool: no line is taken any more, the writer hands the sinks every line committed (waiting for them
    /// as long as they take), and the file is marked closed cleanly, so that the next start has nothing to recover.
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        Interlocked.Or(ref _head, ClosedBit);
        _stopping = true;
        Wake();
        if (_writer is not null)
        {
            _writer.Join();

            // Everything reserved was delivered and cleared.
            Volatile.Write(ref *(uint*)(_header + CleanAt), 1u);
        }

        lock (_progress)
        {
            Monitor.PulseAll(_progress);
        }

        _view.Flush();
        Unmap();
        _stream.Dispose();
    }

    private static long Align(long size) => (size + 7) & ~7L;

    // CRC-32C (hardware) of the header fields after the magic (length, offset, set) and the payload.
    private static uint Checksum(byte* record, ReadOnlySpan<byte> payload)
    {
        var crc = BitOperations.Crc32C(uint.MaxValue, Unsafe.ReadUnaligned<ulong>(record + 4));
        crc = BitOperations.Crc32C(crc, Unsafe.ReadUnaligned<ulong>(record + 12));
        while (payload.Length >= 8)
        {
            crc = BitOperations.Crc32C(crc, MemoryMarshal.Read<ulong>(payload));
            payload = payload[8..];
        }

        foreach (var b in payload)
        {
            crc = BitOperations.Crc32C(crc, b);
        }

        return ~crc;
    }

    private void Wake()
    {
        _writerIdle = false;
        try
        {
            _wake.Set();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    // Spins briefly, then blocks until the writer has delivered up to target.
    private void WaitForDelivered(long target)
    {
        var spin = new SpinWait();
        while (spin.Count < 10)
        {
            if (Volatile.Read(ref _delivered) >= target)
            {
                return;
            }

            spin.SpinOnce(sleep1Threshold: -1);
        }

        lock (_progress)
        {
            Interlocked.Increment(ref _waiters);

            // A writer gathering lines stops gathering for a full ring.
            Wake();
            try
            {
                while (Volatile.Read(ref _delivered) < target)
                {
                    // The writer pulses after each batch; the timeout only bounds a wait that lost the race to it.
                    Monitor.Wait(_progress, 100);
                }
            }
            finally
            {
                Interlocked.Decrement(ref _waiters);
            }
        }
    }
}
