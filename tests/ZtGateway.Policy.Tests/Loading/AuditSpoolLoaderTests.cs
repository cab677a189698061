using ZtGateway.Policy.Configuration;

namespace ZtGateway.Policy.Tests.Loading;

/// <summary>
/// <c>audit.spool</c>: its defaults (the file in <c>gateway.stateDir</c>, 32 MiB), a path relative to gateway.yaml,
/// sizes in KiB, MiB and GiB from 1 MiB to 4 GiB, and every error at the line of the bad value.
/// </summary>
public sealed class AuditSpoolLoaderTests
{
    private static PolicyFolder Folder(string audit) =>
        PolicySamples.Minimal().Write("gateway.yaml", audit.TrimEnd('\n') + "\n" + PolicySamples.MinimalGateway);

    private static AuditSpoolSettings Load(PolicyFolder folder)
    {
        var result = folder.Load();
        Assert.True(result.Succeeded, folder.FormatAll(result));
        Assert.Empty(result.Diagnostics);
        return result.Policy!.Gateway.Audit.Spool;
    }

    [Fact]
    public void Absent_TakesTheDefaults_InTheStateFolder()
    {
        using var folder = Folder("audit:\n  sinks: [stdout]\n");

        var result = folder.Load();
        var spool = result.Policy!.Gateway.Audit.Spool;

        Assert.Null(spool.Path);
        Assert.Equal(32L * 1024 * 1024, spool.Size);
        Assert.Equal(Path.Combine(result.Policy.Gateway.Gateway.StateDir, "ztgw-audit.spool"), spool.PathIn(result.Policy.Gateway.Gateway.StateDir));
    }

    [Theory]
    [InlineData("1MiB", 1L << 20)]
    [InlineData("1024KiB", 1L << 20)]
    [InlineData("32MiB", 32L << 20)]
    [InlineData("3GiB", 3L << 30)]
    [InlineData("4GiB", 4L << 30)]
    [InlineData("4194304KiB", 4L << 30)]
    public void Size_IsReadInItsUnit(string size, long bytes)
    {
        using var folder = Folder($"audit:\n  spool: {{ size: {size} }}\n");

        Assert.Equal(bytes, Load(folder).Size);
    }

    [Fact]
    public void Path_IsRelativeToGatewayYaml()
    {
        using var folder = Folder("audit:\n  spool:\n    path: spool/audit.spool\n");

        Assert.Equal(folder.PathOf("spool/audit.spool"), Load(folder).Path);
    }

    [Theory]
    [InlineData("spool: [a]", "gateway.yaml:2:10: error: 'audit.spool' must be a mapping, not a list")]
    [InlineData("spool: { size: 32MB }", "gateway.yaml:2:18: error: 'audit.spool.size' must be a size such as 32MiB (a positive whole number of KiB, MiB or GiB), not '32MB'")]
    [InlineData("spool: { size: 0MiB }", "gateway.yaml:2:18: error: 'audit.spool.size' must be a size such as 32MiB (a positive whole number of KiB, MiB or GiB), not '0MiB'")]
    [InlineData("spool: { size: -1MiB }", "gateway.yaml:2:18: error: 'audit.spool.size' must be a size such as 32MiB (a positive whole number of KiB, MiB or GiB), not '-1MiB'")]
    [InlineData("spool: { size: 32 }", "gateway.yaml:2:18: error: 'audit.spool.size' must be a size such as 32MiB (a positive whole number of KiB, MiB or GiB), not '32'")]
    [InlineData("spool: { size: 1023KiB }", "gateway.yaml:2:18: error: 'audit.spool.size' must be from 1MiB to 4GiB, not '1023KiB'")]
    [InlineData("spool: { size: 5GiB }", "gateway.yaml:2:18: error: 'audit.spool.size' must be from 1MiB to 4GiB, not '5GiB'")]
    [InlineData("spool: { path: \"\" }", "gateway.yaml:2:18: error: 'audit.spool.path' must not be empty")]
    [InlineData("spool: { off: true }", "gateway.yaml:2:12: error: unknown key 'off' in 'audit.spool'")]
    public void Rejects_WithTheLineOfTheBadValue(string spool, string expected)
    {
        using var folder = Folder("audit:\n  " + spool + "\n");

        var result = folder.Load();

        Assert.Null(result.Policy);
        Assert.Equal(expected, folder.FormatAll(result));
    }

    [Fact]
    public void SameSpool_IgnoresWhereTheSectionIsWritten()
    {
        var a = new AuditSpoolSettings { Path = "/s", Size = 1 << 20, Location = new SourceLocation("g", 1, 1) };

        Assert.True(a.SameSpool(a with { Location = new SourceLocation("g", 9, 3) }));
        Assert.False(a.SameSpool(a with { Size = 2 << 20 }));
        Assert.False(a.SameSpool(a with { Path = null }));
    }
}
