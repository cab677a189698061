using System.Collections.Frozen;
using System.Security.Cryptography;
using System.Text;
using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Loading.Yaml;

namespace ZtGateway.Policy.Loading;

/// <summary>Reads gateway.yaml and the segment files it points at, and validates them.</summary>
public static class PolicyLoader
{
    /// <summary>
    /// Loads and validates the policy rooted at <paramref name="gatewayFile"/> (docs/design.md section 2): gateway.yaml and every
    /// <c>*.yaml</c> / <c>*.yml</c> file directly in its <c>gateway.policyDir</c>, in ordinal order of file name.
    /// Never throws for bad input: unreadable files, YAML syntax errors and invalid values all become diagnostics, and
    /// every problem is reported, not only the first.
    /// </summary>
    /// <param name="gatewayFile">Path of gateway.yaml; relative paths are taken from the current directory.</param>
    /// <param name="timeProvider">The clock that decides whether a rule's <c>until</c> has passed.</param>
    /// <returns>
    /// The policy and its warnings when there is no error; otherwise no policy and every diagnostic, sorted by file,
    /// line and column.
    /// </returns>
    public static PolicyLoadResult Load(string gatewayFile, TimeProvider timeProvider) => Load(gatewayFile, timeProvider, PolicyLoadOptions.Default);

    /// <summary>
    /// Loads as <see cref="Load(string, TimeProvider)"/> does; <paramref name="options"/> says whether the key files the
    /// policy names are checked (a missing or unreadable trust file is an error at the line that names it).
    /// </summary>
    public static PolicyLoadResult Load(string gatewayFile, TimeProvider timeProvider, PolicyLoadOptions options)
    {
        ArgumentNullException.ThrowIfNull(gatewayFile);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(options);

        var diagnostics = new DiagnosticBag();
        var gatewayPath = NodeReader.ResolvePath(Directory.GetCurrentDirectory(), gatewayFile);
        if (gatewayPath is null)
        {
            diagnostics.Error(new SourceLocation(gatewayFile, 1, 1), $"invalid gateway file path '{gatewayFile}'");
            return new PolicyLoadResult(null, diagnostics.Sorted());
        }

        var gatewayBytes = ReadFile(gatewayPath, diagnostics);
        if (gatewayBytes is null)
        {
            return new PolicyLoadResult(null, diagnostics.Sorted());
        }

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(gatewayBytes);
        var files = new List<PolicyFileDigest> { Digest(gatewayPath, gatewayBytes) };

        var gatewayRoot = YamlTreeReader.Read(gatewayPath, Decode(gatewayBytes), diagnostics);
        var gateway = GatewayFileMapper.Map(gatewayPath, gatewayRoot, diagnostics);

        var segments = new List<SegmentFile>();
        if (gatewayRoot is not null && gateway.PolicyDirUsable)
        {
            foreach (var path in FindSegmentFiles(gateway, diagnostics))
            {
                var bytes = ReadFile(path, diagnostics);
                if (bytes is null)
                {
                    continue;
                }

                hash.AppendData(Encoding.UTF8.GetBytes(Path.GetFileName(path)));
                hash.AppendData([0]);
                hash.AppendData(bytes);
                files.Add(Digest(path, bytes));
                if (YamlTreeReader.Read(path, Decode(bytes), diagnostics) is { } root)
                {
                    segments.Add(SegmentFileMapper.Map(path, root, diagnostics, timeProvider, Path.GetDirectoryName(gatewayPath)));
                }
            }
        }

        PolicyChecks.Run(gateway, segments, diagnostics);
        if (options.KeyFiles == KeyFileCheck.Required && gateway.Mapped)
        {
            KeyFiles.Check(gateway.Config, gateway.KeyLocations, diagnostics);
            KeyFiles.CheckTransport(gateway.Config, segments.Select(s => s.Config), diagnostics);
        }

        // The version is known whatever the outcome: a refused edit is named by the version its bytes hash to.
        var version = Convert.ToHexStringLower(hash.GetHashAndReset());
        if (diagnostics.HasErrors)
        {
            return new PolicyLoadResult(null, diagnostics.Sorted()) { Files = files, Version = version };
        }

        var policy = new PolicySet
        {
            Gateway = gateway.Config,
            Segments = segments.ToFrozenDictionary(s => s.Config.Name, s => s.Config, StringComparer.Ordinal),
            Version = version,
        };
        return new PolicyLoadResult(policy, diagnostics.Sorted()) { Files = files, Version = version };
    }

    private static PolicyFileDigest Digest(string path, byte[] bytes) => new(path, Convert.ToHexStringLower(SHA256.HashData(bytes)));

    private static List<string> FindSegmentFiles(GatewayFile gateway, DiagnosticBag diagnostics)
    {
        var folder = gateway.Config.Gateway.PolicyDir;
        var shownFolder = Path.GetRelativePath(Path.GetDirectoryName(gateway.Config.FilePath)!, folder);
        if (!Directory.Exists(folder))
        {
            diagnostics.Error(gateway.PolicyDirLocation, $"policy folder '{shownFolder}' does not exist");
            return [];
        }

        List<string> files;
        try
        {
            files = [.. Directory.EnumerateFiles(folder)
                .Where(f => Path.GetExtension(f) is ".yaml" or ".yml")
                .Where(f => !string.Equals(f, gateway.Config.FilePath, StringComparison.Ordinal))
                .OrderBy(f => Path.GetFileName(f), StringComparer.Ordinal)];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            diagnostics.Error(gateway.PolicyDirLocation, $"cannot list policy folder '{shownFolder}': {e.Message}");
            return [];
        }

        if (files.Count == 0)
        {
            diagnostics.Error(gateway.PolicyDirLocation, $"policy folder '{shownFolder}' holds no segment files (*.yaml or *.yml)");
        }

        return files;
    }

    private static byte[]? ReadFile(string path, DiagnosticBag diagnostics)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            diagnostics.Error(new SourceLocation(path, 1, 1), "file not found");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            diagnostics.Error(new SourceLocation(path, 1, 1), $"cannot read file: {e.Message}");
        }

        return null;
    }

    private static string Decode(byte[] bytes)
    {
        using var reader = new StreamReader(new MemoryStream(bytes), Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        return reader.ReadToEnd();
    }
}
