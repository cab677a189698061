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

    // Owner reads and writes, its group reads (a log shipper); nobody else. The process umask may narrow it further.
    private const int CreateMode = 0x1A0; // 0640

    private readonly SafeFileHandle _handle;

    private AppendOnlyFile(SafeFileHandle handle) => _handle = handle;

    public static AppendOnlyFile Open(string path)
    {
        var fd = NativeOpen(path, OpenWriteOnly | OpenCreate | OpenAppend | OpenCloseOnExec, CreateMode);
        if (fd < 0)
        {
            throw Failure(Marshal.GetLastPInvokeError(), "open " + path);
        }

        return new AppendOnlyFile(new SafeFileHandle(fd, ownsHandle: true));
    }

    /// <summary>Appends the bytes; a line is written by one system call unless the disk refuses part of it.</summary>
    public void Write(ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            var written = NativeWrite(_handle, bytes, (nuint)bytes.Length);
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
    }

    public void Dispose() => _handle.Dispose();

    private static IOException Failure(int errno, string operation) =>
        new($"{operation}: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})", errno);

    // open(2) returns an int: read as a pointer-sized value, its -1 would not be negative.
    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int NativeOpen(string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    private static partial nint NativeWrite(SafeFileHandle fd, ReadOnlySpan<byte> buffer, nuint count);
}
