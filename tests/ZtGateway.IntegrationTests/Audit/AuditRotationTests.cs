using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using ZtGateway.Audit;
using ZtGateway.IntegrationTests.Infrastructure;

namespace ZtGateway.IntegrationTests.Audit;

/// <summary>
/// Rotation of the audit file by rename (logrotate without copytruncate) under a real <c>ztgw run</c> process:
/// SIGHUP reopens the file and the gateway keeps serving; without it the gateway notices by itself. Every refusal's
/// decision id is in exactly one of the two files.
/// </summary>
public sealed class AuditRotationTests : IDisposable
{
    private const string Finance = ZtgwProcess.FinanceSegment;

    private readonly TestIdentity _identity = new();
    private readonly string _directory;

    public AuditRotationTests() => _directory = TestGateway.CreateConfig(_identity, new Dictionary<string, string> { ["finance"] = Finance });

    private string AuditFile => Path.Combine(_directory, "audit", "decisions.jsonl");

    private string RotatedFile => AuditFile + ".1";

    public void Dispose()
    {
        _identity.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task Sighup_ReopensTheRenamedFile_AndTheGatewayKeepsServing()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // Signals, O_APPEND and the rotation check are Linux's.
        }

        await using var gateway = await GatewayProcess.StartAsync(Path.Combine(_directory, "gateway.yaml"));
        using var client = new HttpClient { BaseAddress = gateway.Listener, Timeout = TimeSpan.FromSeconds(30) };

        var before = await RefuseAsync(client, 15, "before");

        // Lines reach the file from the spool a moment after their answers: rotate once they are all there.
        Assert.True(await EventuallyAsync(() => Holds(before, AuditFile)), "the refusals did not reach the audit file");
        File.Move(AuditFile, RotatedFile);
        await gateway.SignalAsync("HUP");

        // The reopen creates the file at once; no line has been written since, so the rotation check cannot have done it.
        Assert.True(await EventuallyAsync(() => File.Exists(AuditFile)), "SIGHUP did not reopen the audit file");
        Assert.True(await EventuallyAsync(() => gateway.Errors.Any(line => line.Contains("reopened (SIGHUP)", StringComparison.Ordinal))),
            "no log line reports the reopen:\n" + string.Join('\n', gateway.Errors));
        var after = await RefuseAsync(client, 15, "after");
        Assert.True(await EventuallyAsync(() => Holds(after, AuditFile)), "the refusals after the reopen did not reach the new file");

        Assert.False(gateway.HasExited, "SIGHUP ended the gateway");
        Assert.Equal(before, DecisionIds(RotatedFile));
        Assert.Equal(after, DecisionIds(AuditFile));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead, File.GetUnixFileMode(AuditFile));
        Assert.Equal(0, await gateway.StopAsync());
    }

    [Fact]
    public async Task RenameWithoutSignal_IsNoticedByTheGateway_AndNoLineIsLostOrDoubled()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // Signals, O_APPEND and the rotation check are Linux's.
        }

        await using var gateway = await GatewayProcess.StartAsync(Path.Combine(_directory, "gateway.yaml"));
        using var client = new HttpClient { BaseAddress = gateway.Listener, Timeout = TimeSpan.FromSeconds(30) };

        var sent = await RefuseAsync(client, 10, "before");
        File.Move(AuditFile, RotatedFile);

        // Bounded: one refusal every 100 ms for at most 10 s; the check runs about once a second.
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < 100 && !File.Exists(AuditFile); i++)
        {
            sent.AddRange(await RefuseAsync(client, 1, $"waiting-{i}"));
            await Task.Delay(100);
        }

        Assert.True(File.Exists(AuditFile), "the gateway kept writing to the renamed file");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"the rename was noticed after {clock.Elapsed}");
        var after = await RefuseAsync(client, 5, "after");
        sent.AddRange(after);
        Assert.True(await EventuallyAsync(() => Holds(sent, RotatedFile, AuditFile)), "not every refusal reached one of the two files");

        var rotated = DecisionIds(RotatedFile);
        var current = DecisionIds(AuditFile);
        Assert.Equal(sent.Count, rotated.Count + current.Count);
        Assert.Equal(sent.ToHashSet(), rotated.Concat(current).ToHashSet());
        Assert.Equal(after, current[^after.Count..]);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead, File.GetUnixFileMode(AuditFile));
        Assert.Equal(0, await gateway.StopAsync());
    }

    [Fact]
    public async Task Reopen_ReachesTheTrailOfAReload_AndTheOneItReplaced()
    {
        await using var gateway = await TestGateway.StartAsync(_identity, new Dictionary<string, string> { ["finance"] = Finance });
        var replaced = gateway.Host.State.Current.Audit;
        Assert.True((await gateway.Host.ReloadAsync()).Succeeded);
        Assert.NotSame(replaced, gateway.Host.State.Current.Audit);
        File.Move(gateway.AuditFile, gateway.AuditFile + ".1");

        var reopened = AuditFileRegistry.Process.ReopenAll("SIGHUP");

        // The replaced trail stays open for requests still in flight; both now write to the new file.
        Assert.Equal(2, reopened.Count(name => name == "file:" + gateway.AuditFile));
        using var client = gateway.Client("finance");
        var answer = await Problem.SendAsync(client, HttpMethod.Get, "/ledger/x");
        Assert.Equal(HttpStatusCode.Unauthorized, answer.Status);
        Assert.Equal([answer.DecisionId!], DecisionIds(gateway.AuditFile));
    }

    /// <summary>Sends refusals (no token: 401 token-missing) and returns their decision ids in order.</summary>
    private static async Task<List<string>> RefuseAsync(HttpClient client, int count, string label)
    {
        var ids = new List<string>(count);
        for (var i = 0; i < count; i++)
        {
            var answer = await Problem.SendAsync(client, HttpMethod.Get, $"/ledger/{label}-{i}");
            Assert.Equal(HttpStatusCode.Unauthorized, answer.Status);
            Assert.Equal("token-missing", answer.Reason);
            ids.Add(answer.DecisionId!);
        }

        return ids;
    }

    /// <summary>The decision ids of the file's lines (but those of policy changes), in order; a line that is not whole JSON fails the test.</summary>
    private static List<string> DecisionIds(string path) =>
        [.. AuditLines.ReadWithoutPolicyChanges(path).Select(line => JsonDocument.Parse(line).RootElement.GetProperty("metadata").GetProperty("uid").GetString()!)];

    // Whether every id is in one of the files; false while a line is still being written.
    private static bool Holds(List<string> ids, params string[] paths)
    {
        try
        {
            return paths.All(File.Exists) && paths.SelectMany(DecisionIds).ToHashSet().IsSupersetOf(ids);
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static async Task<bool> EventuallyAsync(Func<bool> condition)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            if (condition())
            {
                return true;
            }

            await Task.Delay(50);
        }

        return condition();
    }
}
