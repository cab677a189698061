using Microsoft.Extensions.Time.Testing;
using ZtGateway.Policy.Loading;

namespace ZtGateway.Policy.Tests.Loading;

/// <summary>A throw-away folder holding a gateway.yaml and its segment files.</summary>
internal sealed class PolicyFolder : IDisposable
{
    /// <summary>The clock of every load unless a test says otherwise: before the sample grants expire.</summary>
    public static readonly DateTimeOffset Now = new(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);

    public PolicyFolder()
    {
        Root = Path.Combine(Path.GetTempPath(), "ztgw-loader-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Root);
    }

    public string Root { get; }

    public string GatewayFile => Path.Combine(Root, "gateway.yaml");

    public string PathOf(string relativePath) => Path.Combine(Root, relativePath);

    public PolicyFolder Write(string relativePath, string content)
    {
        var path = PathOf(relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return this;
    }

    public PolicyFolder Delete(string relativePath)
    {
        File.Delete(PathOf(relativePath));
        return this;
    }

    /// <summary>Loads without opening key files (the subject of <see cref="KeyFileTests"/> alone).</summary>
    public PolicyLoadResult Load(DateTimeOffset? now = null) =>
        PolicyLoader.Load(GatewayFile, new FakeTimeProvider(now ?? Now), new PolicyLoadOptions { KeyFiles = KeyFileCheck.Skip });

    /// <summary>Loads as a gateway start does: every key file the config names must be usable.</summary>
    public PolicyLoadResult LoadWithKeyFiles() => PolicyLoader.Load(GatewayFile, new FakeTimeProvider(Now));

    /// <summary>The diagnostics as <c>ztgw validate</c> prints them, paths relative to the folder.</summary>
    public IReadOnlyList<string> Format(PolicyLoadResult result) =>
        [.. result.Diagnostics.Select(d => d.Format(Root))];

    /// <summary>All diagnostics, one a line, so that a failing assertion shows them whole.</summary>
    public string FormatAll(PolicyLoadResult result) => string.Join('\n', Format(result));

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless.
        }
    }
}
