using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace ZtGateway.Audit;

/// <summary>
/// A Linux file descriptor opened with <c>O_APPEND</c>. .NET's file streams keep their own position and write
/// with <c>pwrite</c>, which needs a lock across threads and overwrites whatever another writer appended; with
/// <c>O_APPEND</c> the kernel moves every write to the end of the file atomically.
/// </summary>
internal sealed partial class AppendOnlyFile : IDisposable
{
    // Linux values (asm-generic/fcntl.h); this type is only used on Linux.
    private const int OpenWriteOnly = 0x1;
    private const int OpenCreate = 0x40;
    private const int OpenAppend = 0x400;
    private const int OpenCloseOnExec = 0x80000;
    private const int Interrupted = 4; // EINTR
    private const int NoEntry = 2; // ENOENT
    private const int NotDirectory = 20; // ENOTDIR

    // statx(2) (linux/stat.h, fcntl.h): its buffer has one layout on every architecture, unlike struct stat.
    private const int CurrentDirectory = -100; // AT_FDCWD
    private const int EmptyPath = 0x1000; // AT_EMPTY_PATH: describe the descriptor itself
    private const uint WantInode = 0x100; // STATX_INO

    // Owner reads and writes, its group reads (a log shipper); nobody else. The process umask may narrow it further.
    private const int CreateMode = 0x1A0; // 0640

    private readonly SafeFileHandle _handle;

    private AppendOnlyFile(SafeFileHandle handle, FileIdentity? identity)
    {
        _handle = handle;
        Identity = identity;
    }

    /// <summary>Device and inode of the open file; null when the kernel would not tell (no <c>statx</c>).</summary>
    public FileIdentity? Identity { get; }

    /// <summary>Opens the path for appending, creating it with mode 0640 when it does not exist.</summary>
    public static AppendOnlyFile Open(string path)
    {
        var fd = NativeOpen(path, OpenWriteOnly | OpenCreate | OpenAppend | OpenCloseOnExec, CreateMode);
        if (fd < 0)
        {
            throw Failure(Marshal.GetLastPInvokeError(), "open " + path);
        }

        var handle = new SafeFileHandle(fd, ownsHandle: true);
        return new AppendOnlyFile(handle, Describe(fd, string.Empty, EmptyPath, out _));
    }

    /// <summary>
    /// The identity of the file that <paramref name="path"/> names now (following symbolic links, as
    /// <see cref="Open"/> does). False with <paramref name="missing"/> set when nothing is there; false without
    /// it when the kernel could not say.
    /// </summary>
    public static bool TryIdentify(string path, out FileIdentity identity, out bool missing)
    {
        var found = Describe(CurrentDirectory, path, 0, out var errno);
        identity = found.GetValueOrDefault();
        missing = errno is NoEntry or NotDirectory;
        return found is not null;
    }

    /// <summary>
    /// Appends the bytes; a line is written by one system call unless the disk refuses part of it. Returns false,
    /// having written nothing, when the file has been closed; throws when the kernel refuses the write.
    /// </summary>
    public bool TryWrite(ReadOnlySpan<byte> bytes)
    {
        // The reference keeps the descriptor open, and its number unused by any other file, until the whole
        // line is written, even when another thread disposes this file meanwhile.
        var acquired = false;
        try
        {
            _handle.DangerousAddRef(ref acquired);
        }
        catch (ObjectDisposedException)
        {
            return false;
        }

        try
        {
            var fd = _handle.DangerousGetHandle();
            while (!bytes.IsEmpty)
            {
                var written = NativeWrite(fd, bytes, (nuint)bytes.Length);
                if (written < 0)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    if (errno == Interrupted)
                    {
                        continue;
                    }

                    throw Failure(errno, "write");
                }

                bytes = bytes[(int)written..];
            }

            return true;
        }
        finally
        {
            if (acquired)
            {
                _handle.DangerousRelease();
            }
        }
    }

    /// <summary>Closes the descriptor once the last write in progress on it has returned.</summary>
    public void Dispose() => _handle.Dispose();

    private static FileIdentity? Describe(int directory, string path, int flags, out int errno)
    {
        try
        {
            if (NativeStatx(directory, path, flags, WantInode, out var status) == 0 && (status.Mask & WantInode) != 0)
            {
                errno = 0;
                return new FileIdentity(status.DeviceMajor, status.DeviceMinor, status.Inode);
            }

            errno = Marshal.GetLastPInvokeError();
            return null;
        }
        catch (EntryPointNotFoundException)
        {
            // A C library older than statx (glibc 2.28, musl 1.2.5): the file still works, it just cannot be told apart.
            errno = 0;
            return null;
        }
    }

    private static IOException Failure(int errno, string operation) =>
        new($"{operation}: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})", errno);

    // open(2) returns an int: read as a pointer-sized value, its -1 would not be negative.
    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int NativeOpen(string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    private static partial nint NativeWrite(nint fd, ReadOnlySpan<byte> buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int NativeStatx(int directory, string path, int flags, uint mask, out StatxBuffer status);

    // struct statx (linux/stat.h): only the fields read here; the kernel fills all 256 bytes.
    [StructLayout(LayoutKind.Explicit, Size = 256)]
    private struct StatxBuffer
    {
        [FieldOffset(0)]
        public uint Mask;

        [FieldOffset(32)]
        public ulong Inode;

        [FieldOffset(136)]
        public uint DeviceMajor;

        [FieldOffset(140)]
        public uint DeviceMinor;
    }
}

/// <summary>Which file a path or a descriptor refers to: its device and inode, unique while the file is open.</summary>
internal readonly record struct FileIdentity(uint DeviceMajor, uint DeviceMinor, ulong Inode)
{
    public override string ToString() => $"{DeviceMajor}:{DeviceMinor}/{Inode}";
}
