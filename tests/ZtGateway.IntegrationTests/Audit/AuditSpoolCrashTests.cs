using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.IdentityModel.Tokens;
using ZtGateway.IntegrationTests.Infrastructure;

namespace ZtGateway.IntegrationTests.Audit;

/// <summary>
/// The audit spool under a real <c>ztgw run</c> process (decision 0007). The file sink is a FIFO that the test stops
/// reading after a little, so that the sink cannot keep up and the lines of the answered requests wait in the spool.
/// Killed with SIGKILL, the next start on the same state folder gives the sink every line the pipe did not take (at
/// least once, valid OCSF); stopped with SIGTERM, the gateway hands the sink everything before it exits, and the next
/// start has nothing to recover.
/// </summary>
public sealed class AuditSpoolCrashTests : IAsyncLifetime
{
    private const string RecoveryLine = "was not closed cleanly";
    private static readonly TimeSpan Bounded = TimeSpan.FromSeconds(30);

    private readonly TestIdentity _identity = new();
    private EchoUpstream _ledger = null!;
    private string _directory = null!;

    private string ConfigPath => Path.Combine(_directory, "gateway.yaml");

    private string AuditFile => Path.Combine(_directory, "audit", "decisions.jsonl");

    public async Task InitializeAsync()
    {
        _ledger = await EchoUpstream.StartAsync("ledger");
        _directory = TestGateway.CreateConfig(_identity, Topology.Standard(_ledger.Url, _ledger.Url, DateTimeOffset.UtcNow.AddDays(1)));
    }

    public async Task DisposeAsync()
    {
        await _ledger.DisposeAsync();
        _identity.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task AfterSigkill_TheNextStartWritesEveryLineThePipeDidNotTake()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // FIFOs, signals and the shared mapping's survival are Linux's here.
        }

        using var pipe = await StalledPipe.CreateAsync(AuditFile);
        var gateway = await GatewayProcess.StartAsync(ConfigPath);
        List<string> answered;
        try
        {
            await pipe.FirstRead.WaitAsync(Bounded);
            answered = await AnswerAsync(gateway.Listener, 200);
        }
        finally
        {
            // SIGKILL: nothing of the gateway runs after this, only the kernel's pages of the spool remain.
            await gateway.DisposeAsync();
        }

        var received = await pipe.ReadToEndAsync().WaitAsync(Bounded);
        var throughPipe = DecisionIds(received);
        Assert.NotEmpty(throughPipe);
        Assert.Contains(answered, id => !throughPipe.Contains(id));

        // The sink is a regular file from now on; what the pipe took is kept beside it, for the conformance check.
        File.Delete(AuditFile);
        await File.WriteAllLinesAsync(Path.Combine(_directory, "audit", "through-pipe.jsonl"), received);

        await using (var restarted = await GatewayProcess.StartAsync(ConfigPath))
        {
            Assert.True(await EventuallyAsync(() => Started(restarted)), "the restarted gateway did not log its start:\n" + string.Join('\n', restarted.Errors));
            var recovery = Assert.Single(restarted.Errors, line => line.Contains(RecoveryLine, StringComparison.Ordinal));
            Assert.Contains(Path.Combine(_directory, "state", "ztgw-audit.spool"), recovery, StringComparison.Ordinal);

            Assert.True(await EventuallyAsync(() => answered.All(id => throughPipe.Contains(id) || FileIds().Contains(id))),
                "answered decisions missing from the pipe and the file: " + string.Join(", ", answered.Where(id => !throughPipe.Contains(id) && !FileIds().Contains(id))));
            Assert.Equal(0, await restarted.StopAsync());
        }

        AuditConformance.AssertValid(_directory);
    }

    [Fact]
    public async Task Sigterm_HandsTheSinkEveryLineBeforeTheProcessEnds_AndTheNextStartRecoversNothing()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        List<string> answered;
        string[] received;
        using (var pipe = await StalledPipe.CreateAsync(AuditFile))
        {
            await using var gateway = await GatewayProcess.StartAsync(ConfigPath);
            await pipe.FirstRead.WaitAsync(Bounded);
            answered = await AnswerAsync(gateway.Listener, 200);

            // Asked to stop while the lines still wait in the spool; the pipe is read again only then.
            await gateway.SignalAsync("TERM");
            var reading = pipe.ReadToEndAsync();
            Assert.Equal(0, await gateway.WaitForExitAsync(Bounded));
            received = await reading.WaitAsync(Bounded);
        }

        // Each exactly once: nothing was lost, and nothing needed giving again.
        var perId = received.Select(l => DecisionIds([l]).SingleOrDefault()).Where(id => id is not null).GroupBy(id => id!).ToDictionary(g => g.Key, g => g.Count());
        Assert.All(answered, id => Assert.Equal(1, perId.GetValueOrDefault(id)));

        File.Delete(AuditFile);
        await File.WriteAllLinesAsync(Path.Combine(_directory, "audit", "through-pipe.jsonl"), received);
        await using (var restarted = await GatewayProcess.StartAsync(ConfigPath))
        {
            Assert.True(await EventuallyAsync(() => Started(restarted)), "the restarted gateway did not log its start:\n" + string.Join('\n', restarted.Errors));
            Assert.DoesNotContain(restarted.Errors, line => line.Contains(RecoveryLine, StringComparison.Ordinal));
            Assert.Equal(0, await restarted.StopAsync());
        }

        Assert.Empty(FileIds().Intersect(answered));
        AuditConformance.AssertValid(_directory);
    }

    // Alternately an allowed request (its own user, so that each gets its own upstream assertion) and a refusal; the
    // decision ids answered, from the upstream's assertion or the problem+json.
    private async Task<List<string>> AnswerAsync(Uri listener, int count)
    {
        using var client = new HttpClient { BaseAddress = listener, Timeout = Bounded };
        var ids = new List<string>(count);
        _ledger.Requests.Clear();
        for (var i = 0; i < count; i++)
        {
            if (i % 2 == 0)
            {
                var token = _identity.User(DateTimeOffset.UtcNow.AddSeconds(-30), $"user-{i}", ["finance-staff"]);
                var allowed = await Problem.SendAsync(client, HttpMethod.Get, $"/ledger/{i}", token);
                Assert.Equal(HttpStatusCode.OK, allowed.Status);
            }
            else
            {
                var refused = await Problem.SendAsync(client, HttpMethod.Get, $"/ledger/{i}");
                Assert.Equal(HttpStatusCode.Unauthorized, refused.Status);
                ids.Add(refused.DecisionId!);
            }
        }

        foreach (var forwarded in _ledger.Requests)
        {
            using var claims = JsonDocument.Parse(Base64UrlEncoder.Decode(forwarded.Headers["X-ZT-Assertion"].Split('.')[1]));
            ids.Add(claims.RootElement.GetProperty("decision_id").GetString()!);
        }

        Assert.Equal(count, ids.Distinct().Count());
        return ids;
    }

    private HashSet<string> FileIds()
    {
        try
        {
            return File.Exists(AuditFile) ? DecisionIds(File.ReadAllLines(AuditFile)) : [];
        }
        catch (IOException)
        {
            return [];
        }
    }

    // The metadata.uid of each whole line; a line still being written is left for the next look.
    private static HashSet<string> DecisionIds(IEnumerable<string> lines)
    {
        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in lines)
        {
            try
            {
                using var json = JsonDocument.Parse(line);
                ids.Add(json.RootElement.GetProperty("metadata").GetProperty("uid").GetString()!);
            }
            catch (JsonException)
            {
            }
        }

        return ids;
    }

    // Logged after the spool's recovery and the listeners: every line before it is in Errors once it is there.
    private static bool Started(GatewayProcess gateway) =>
        gateway.Errors.Any(line => line.Contains(" loaded with ", StringComparison.Ordinal));

    private static async Task<bool> EventuallyAsync(Func<bool> condition)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < Bounded)
        {
            if (condition())
            {
                return true;
            }

            await Task.Delay(50);
        }

        return condition();
    }

    /// <summary>
    /// A FIFO in place of the audit file, read a little once the gateway opens it and then not at all (its 64 KiB buffer
    /// fills), until <see cref="ReadToEndAsync"/> reads everything up to the end the writer's exit makes.
    /// </summary>
    private sealed class StalledPipe : IDisposable
    {
        private readonly MemoryStream _received = new();
        private readonly TaskCompletionSource _resume = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly Task _reader;

        private StalledPipe(string path)
        {
            var first = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            FirstRead = first.Task;
            _reader = Task.Run(async () =>
            {
                // Opening blocks until the gateway opens the other end.
                using var pipe = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 0);
                var buffer = new byte[4096];
                _received.Write(buffer, 0, pipe.Read(buffer));
                first.SetResult();
                await _resume.Task;
                for (var read = pipe.Read(buffer); read > 0; read = pipe.Read(buffer))
                {
                    _received.Write(buffer, 0, read);
                }
            });
        }

        /// <summary>Done once the gateway opened the pipe and wrote its first lines, and the little read is taken.</summary>
        public Task FirstRead { get; }

        public static async Task<StalledPipe> CreateAsync(string path)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            using var mkfifo = Process.Start("mkfifo", ["-m", "600", path]);
            await mkfifo.WaitForExitAsync();
            Assert.Equal(0, mkfifo.ExitCode);
            return new StalledPipe(path);
        }

        /// <summary>Reads on until every writer is gone; the whole lines received, the first little read included.</summary>
        public async Task<string[]> ReadToEndAsync()
        {
            _resume.TrySetResult();
            await _reader;
            var text = Encoding.UTF8.GetString(_received.ToArray());

            // A write the kill cut off leaves part of a line: it is not a line the pipe took.
            var end = text.LastIndexOf('\n');
            return end < 0 ? [] : text[..end].Split('\n');
        }

        public void Dispose()
        {
            // A pipe that was never opened by a writer keeps its reader blocked: it ends with the test process.
            _resume.TrySetResult();
            _received.Dispose();
        }
    }
}
