namespace ZtGateway.Fuzz;

/// <summary>
/// A folder of this process for the files a target writes (policy files, key sets): under <c>/dev/shm</c> where it
/// exists, so that tens of thousands of writes a minute touch no disk. Deleted on dispose.
/// </summary>
internal sealed class ScratchFolder : IDisposable
{
    public ScratchFolder(string name)
    {
        var parent = Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
        Root = Path.Combine(parent, $"ztgw-fuzz-{name}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Root);
    }

    public string Root { get; }

    public string PathOf(string relativePath) => Path.Combine(Root, relativePath);

    public string Write(string relativePath, string content)
    {
        var path = PathOf(relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return path;
    }

    public string Write(string relativePath, ReadOnlySpan<byte> content)
    {
        var path = PathOf(relativePath);
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, bufferSize: 1);
        file.Write(content);
        return path;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A leftover scratch folder in /dev/shm is harmless and goes with the next reboot.
        }
    }
}
