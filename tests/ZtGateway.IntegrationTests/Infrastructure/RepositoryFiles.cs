namespace ZtGateway.IntegrationTests.Infrastructure;

/// <summary>Files of this repository, found from the test binaries by walking up to ZtGateway.sln.</summary>
public static class RepositoryFiles
{
    public static string Root { get; } = FindRoot();

    public static string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);

    /// <summary>A throwaway copy of config/ (without keys or state), so tests never write into the repository.</summary>
    public static string CopyOfSampleConfig()
    {
        var target = Path.Combine(Path.GetTempPath(), "ztgw-sample-" + Guid.NewGuid().ToString("N")[..12]);
        var source = PathOf("config");
        foreach (var file in Directory.GetFiles(source, "*.yaml", SearchOption.AllDirectories))
        {
            var destination = Path.Combine(target, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(file, destination);
        }

        return target;
    }

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "ZtGateway.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("ZtGateway.sln not found above " + AppContext.BaseDirectory);
    }
}
