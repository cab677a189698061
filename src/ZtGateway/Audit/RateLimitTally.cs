using System.IO.MemoryMappedFiles;
using System.Net;
using System.Text;

namespace ZtGateway.Audit;

/// <summary>
/// The open rate-limited windows, counted in a memory-mapped file of the state folder (<c>ztgw-ratelimit.tally</c>)
/// so that a window answered but not yet written survives a crash of the process: the mapping is shared with the
/// kernel, which keeps its pages when the process dies. A 429 is counted here before it is answered; the window's
/// aggregated line is written when its second is over, and only then is its slot freed. At start,
/// <see cref="Recover"/> writes the line of every window still open (at least once: a crash between the write and
/// the release writes it again, with the same decision id).
/// </summary>
/// <remarks>
/// A slot is 256 bytes: state, count, start and end (ms), then the decision id, client address, segment and policy
/// version as length-prefixed ASCII. The file is created with mode 0600. Thread-safe per slot: each window's
/// writers hold the window's lock; slots are handed out under the tally's lock.
/// </remarks>
internal sealed class RateLimitTally : IDisposable
{
    /// <summary>The file name in the state folder.</summary>
    public const string FileName = "ztgw-ratelimit.tally";

    private const int SlotSize = 256;
    private const int StateOffset = 0;
    private const int CountOffset = 8;
    private const int StartOffset = 16;
    private const int EndOffset = 24;
    private const int TextOffset = 32;
    private const int OpenState = 1;

    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private readonly Stack<int> _free = new();
    private readonly Lock _lock = new();

    private RateLimitTally(MemoryMappedFile file, MemoryMappedViewAccessor view, int capacity)
    {
        _file = file;
        _view = view;
        Capacity = capacity;
        for (var slot = capacity - 1; slot >= 0; slot--)
        {
            if (view.ReadInt32((long)slot * SlotSize + StateOffset) != OpenState)
            {
                _free.Push(slot);
            }
        }
    }

    /// <summary>How many windows fit.</summary>
    public int Capacity { get; }

    /// <summary>Opens (or creates) the tally of <paramref name="stateDirectory"/>.</summary>
    public static RateLimitTally Open(string stateDirectory, int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Directory.CreateDirectory(stateDirectory);
        var path = Path.Combine(stateDirectory, FileName);
        var options = new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        var stream = new FileStream(path, options);
        var length = (long)capacity * SlotSize;
        if (stream.Length != length)
        {
            // A tally of another capacity: keep what it holds by growing; a smaller capacity only reads the first slots.
            if (stream.Length < length)
            {
                stream.SetLength(length);
            }
        }

        var file = MemoryMappedFile.CreateFromFile(stream, null, Math.Max(length, stream.Length), MemoryMappedFileAccess.ReadWrite,
            HandleInheritability.None, leaveOpen: false);
        return new RateLimitTally(file, file.CreateViewAccessor(0, length), capacity);
    }

    /// <summary>Takes a slot for a new window; -1 when every slot is in use.</summary>
    public int Begin(string decisionId, IPAddress? address, string segment, string policyVersion, DateTimeOffset start)
    {
        int slot;
        lock (_lock)
        {
            if (!_free.TryPop(out slot))
            {
                return -1;
            }
        }

        var at = (long)slot * SlotSize;
        _view.Write(at + CountOffset, 0L);
        _view.Write(at + StartOffset, start.ToUnixTimeMilliseconds());
        _view.Write(at + EndOffset, start.ToUnixTimeMilliseconds());
        var text = at + TextOffset;
        text = WriteText(text, decisionId, 40);
        text = WriteText(text, address?.ToString() ?? string.Empty, 48);
        text = WriteText(text, segment, 64);
        WriteText(text, policyVersion, 70);
        _view.Write(at + StateOffset, OpenState);
        return slot;
    }

    /// <summary>Counts one more request of the window in <paramref name="slot"/>; the caller holds the window's lock.</summary>
    public void Count(int slot, long count, DateTimeOffset end)
    {
        var at = (long)slot * SlotSize;
        _view.Write(at + EndOffset, end.ToUnixTimeMilliseconds());
        _view.Write(at + CountOffset, count);
    }

    /// <summary>Frees the slot once its window's line is written.</summary>
    public void End(int slot)
    {
        _view.Write((long)slot * SlotSize + StateOffset, 0);
        lock (_lock)
        {
            _free.Push(slot);
        }
    }

    /// <summary>The windows a crash left open, read back; each slot is freed after <paramref name="write"/> returns.</summary>
    public int Recover(Action<RecoveredWindow> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        var recovered = 0;
        for (var slot = 0; slot < Capacity; slot++)
        {
            var at = (long)slot * SlotSize;
            if (_view.ReadInt32(at + StateOffset) != OpenState)
            {
                continue;
            }

            var count = _view.ReadInt64(at + CountOffset);
            var text = at + TextOffset;
            var decisionId = ReadText(ref text, 40);
            var address = ReadText(ref text, 48);
            var segment = ReadText(ref text, 64);
            var version = ReadText(ref text, 70);
            if (count > 0 && decisionId.Length > 0 && count <= int.MaxValue)
            {
                write(new RecoveredWindow(
                    decisionId,
                    IPAddress.TryParse(address, out var ip) ? ip : null,
                    segment,
                    version,
                    DateTimeOffset.FromUnixTimeMilliseconds(_view.ReadInt64(at + StartOffset)),
                    DateTimeOffset.FromUnixTimeMilliseconds(_view.ReadInt64(at + EndOffset)),
                    (int)count));
                recovered++;
            }

            End(slot);
        }

        return recovered;
    }

    public void Dispose()
    {
        _view.Flush();
        _view.Dispose();
        _file.Dispose();
    }

    // Length byte, then at most max-1 ASCII bytes; returns the offset after the field.
    private long WriteText(long at, string value, int max)
    {
        Span<byte> bytes = stackalloc byte[max];
        var length = Math.Min(Encoding.ASCII.GetBytes(value.Length > max - 1 ? value[..(max - 1)] : value, bytes[1..]), max - 1);
        bytes[0] = (byte)length;
        _view.WriteArray(at, bytes.ToArray(), 0, max);
        return at + max;
    }

    private string ReadText(ref long at, int max)
    {
        var bytes = new byte[max];
        _view.ReadArray(at, bytes, 0, max);
        at += max;
        var length = Math.Min(bytes[0], (byte)(max - 1));
        return Encoding.ASCII.GetString(bytes, 1, length);
    }
}

/// <summary>A rate-limited window read back from the tally after a crash.</summary>
internal sealed record RecoveredWindow(string DecisionId, IPAddress? Address, string Segment, string PolicyVersion,
    DateTimeOffset Start, DateTimeOffset End, int Count);
