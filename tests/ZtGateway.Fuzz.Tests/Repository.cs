namespace ZtGateway.Fuzz.Tests;

/// <summary>Files of this repository, found from the test binaries by walking up to ZtGateway.sln.</summary>
internal static class Repository
{
    public static string Root { get; } = FindRoot();

    public static string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);

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
