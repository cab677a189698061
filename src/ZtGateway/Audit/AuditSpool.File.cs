using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;

namespace ZtGateway.Audit;

/// <summary>The spool's file: opening it, its header, and the mapping of header and ring.</summary>
internal sealed unsafe partial class AuditSpool
{
    /// <summary>
    /// Opens (or creates, mode 0600, in a folder created mode 0700) the spool at <paramref name="path"/>, exclusively: a
    /// second process on the same file fails here. A file that is not a spool, or of another format, is refused and
    /// left as it is. Nothing is delivered and nothing may be appended until <see cref="Recover"/>.
    /// </summary>
    /// <param name="path">The spool file.</param>
    /// <param name="capacity">Bytes of the ring, a multiple of 8 from <see cref="MinCapacity"/> to <see cref="MaxCapacity"/>.
    /// A spool of another capacity is recovered with its own and then made this size.</param>
    /// <param name="logger">Where the writer reports lines it could not hand to a trail.</param>
    public static AuditSpool Open(string path, long capacity, ILogger logger)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, MinCapacity);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(capacity, MaxCapacity);
        if (capacity % 8 != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "The capacity must be a multiple of 8.");
        }

        var directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory) && !Directory.Exists(directory))
        {
            if (OperatingSystem.IsWindows())
            {
                Directory.CreateDirectory(directory);
            }
            else
            {
                Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
        }

        var options = new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.None, BufferSize = 0 };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        var stream = new FileStream(path, options);
        try
        {
            var fileCapacity = ReadHeader(stream);
            var fresh = fileCapacity == 0;
            if (fresh)
            {
                stream.SetLength(HeaderSize + capacity);
                fileCapacity = capacity;
            }

            var spool = new AuditSpool(stream, path, capacity, fileCapacity, logger);
            if (fresh)
            {
                // A new ring is all zero: nothing to recover.
                spool.Format(delivered: 0, clean: true);
            }

            return spool;
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>Writes the mapped file, as it is at this instant, to <paramref name="path"/>: what a crash now would leave (tests).</summary>
    internal void CopyMappedFileTo(string path)
    {
        using var copy = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
        copy.Write(new ReadOnlySpan<byte>(_header, checked((int)(HeaderSize + _capacity))));
    }

    // The capacity the file's header names; 0 for a new (or never finished) file. Throws for a file that is not a spool.
    private static long ReadHeader(FileStream stream)
    {
        var length = stream.Length;
        if (length == 0)
        {
            return 0;
        }

        Span<byte> header = stackalloc byte[32];
        if (length < HeaderSize || RandomAccess.Read(stream.SafeFileHandle, header, 0) != header.Length)
        {
            throw new IOException($"is not an audit spool ({length} bytes, shorter than its header); move it away or name another audit.spool.path");
        }

        var signature = BinaryPrimitives.ReadUInt64LittleEndian(header[SignatureAt..]);
        if (signature == 0 && !header.ContainsAnyExcept((byte)0))
        {
            // Created, but the process died before the header was written.
            return 0;
        }

        if (signature != Signature)
        {
            throw new IOException("is not an audit spool (it does not start with the spool's signature); move it away or name another audit.spool.path");
        }

        var version = BinaryPrimitives.ReadInt32LittleEndian(header[VersionAt..]);
        if (version != FormatVersion)
        {
            throw new IOException($"is an audit spool of format {version}; this gateway reads format {FormatVersion}");
        }

        var capacity = BinaryPrimitives.ReadInt64LittleEndian(header[CapacityAt..]);
        if (capacity is < MinCapacity or > MaxCapacity || capacity % 8 != 0 || length < HeaderSize + capacity)
        {
            throw new IOException($"is damaged: its header names a ring of {capacity} bytes and the file holds {length}");
        }

        return capacity;
    }

    private void Map(long capacity)
    {
        // Capacity 0: the file's length, which may exceed what is used.
        _map = MemoryMappedFile.CreateFromFile(_stream, null, 0, MemoryMappedFileAccess.ReadWrite, HandleInheritability.None, leaveOpen: true);
        _view = _map.CreateViewAccessor(0, HeaderSize + capacity, MemoryMappedFileAccess.ReadWrite);
        byte* pointer = null;
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
        _header = pointer + _view.PointerOffset;
        _ring = _header + HeaderSize;
        _capacity = capacity;
    }

    private void Unmap()
    {
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _map.Dispose();
        _header = null;
        _ring = null;
    }

    // The header of a ring of the mapped capacity; the signature last, so that a torn header reads as a new file.
    private void Format(long delivered, bool clean)
    {
        *(int*)(_header + VersionAt) = FormatVersion;
        *(uint*)(_header + CleanAt) = clean ? 1u : 0u;
        *(long*)(_header + CapacityAt) = _capacity;
        *(long*)(_header + DeliveredAt) = delivered;
        Volatile.Write(ref *(ulong*)(_header + SignatureAt), Signature);
    }
}
