using System.Buffers.Binary;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using ZtGateway.Audit;
using ZtGateway.Policy.Engine;
using ZtGateway.Tests.KeySets;

namespace ZtGateway.Tests.Audit;

/// <summary>
/// The crash-safe audit spool (decision 0007): lines committed to the memory-mapped ring reach the sinks in order, in
/// large writes, never dropped when the ring is full, and what a crash left behind is given to the sinks at the next
/// start, without records of an earlier lap and without a record the crash cut off. A crash is the file as the mapping
/// holds it at one instant (what the kernel keeps when the process dies), copied while the writer is held in a sink.
/// </summary>
public sealed class AuditSpoolTests : IDisposable
{
    private const int Small = 64 * 1024;
    private static readonly TimeSpan Bounded = TimeSpan.FromSeconds(30);

    private readonly string _directory = Directory.CreateTempSubdirectory("ztgw-spool-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string SpoolPath => Path.Combine(_directory, "ztgw-audit.spool");

    private static byte[] Line(string text, int length)
    {
        var line = new byte[length];
        line.AsSpan().Fill((byte)'.');
        Encoding.ASCII.GetBytes(text.AsSpan(0, Math.Min(text.Length, length - 1)), line);
        line[^1] = (byte)'\n';
        return line;
    }

    private static string Text(byte[] line) => Encoding.ASCII.GetString(line);

    private static (AuditSpool Spool, RecordingTarget Target, ushort Set) Started(string path, long capacity, IAuditSpoolTarget? target = null)
    {
        var spool = AuditSpool.Open(path, capacity, NullLogger.Instance);
        var recording = new RecordingTarget();
        var set = spool.Register(target ?? recording);
        spool.Recover(recording);
        return (spool, recording, set);
    }

    // Holds the writer in its first delivery, commits the lines, and copies the file as a crash at that instant leaves it.
    private string CrashCopy(IReadOnlyList<byte[]> lines)
    {
        var gate = new GateTarget();
        var (spool, _, set) = Started(SpoolPath, Small, gate);
        Assert.True(spool.TryAppend(set, lines[0]));
        Assert.True(gate.Entered.Wait(Bounded));
        foreach (var line in lines.Skip(1))
        {
            Assert.True(spool.TryAppend(set, line));
        }

        var copy = Path.Combine(_directory, "crashed-" + Guid.NewGuid().ToString("N")[..8] + ".spool");
        spool.CopyMappedFileTo(copy);
        gate.Release();
        spool.Dispose();
        return copy;
    }

    [Fact]
    public async Task ManyThreads_EveryLineArrivesOnce_InTheOrderEachThreadCommittedIt()
    {
        const int Threads = 4;
        const int PerThread = 5_000;
        var (spool, target, set) = Started(SpoolPath, Small);
        using (spool)
        {
            using var start = new Barrier(Threads);
            var writers = Enumerable.Range(0, Threads).Select(t => Task.Factory.StartNew(() =>
            {
                start.SignalAndWait(Bounded);
                for (var i = 0; i < PerThread; i++)
                {
                    Assert.True(spool.TryAppend(set, Line($"t{t} {i:D5} ", 40 + (i * 37 % 300))));
                }
            }, TaskCreationOptions.LongRunning)).ToArray();
            await Task.WhenAll(writers).WaitAsync(Bounded);
            spool.Flush();
        }

        var lines = target.Lines;
        Assert.Equal(Threads * PerThread, lines.Count);
        for (var t = 0; t < Threads; t++)
        {
            var mine = lines.Where(l => l.StartsWith($"t{t} ", StringComparison.Ordinal)).Select(l => int.Parse(l.AsSpan(3, 5), provider: null)).ToList();
            Assert.Equal(Enumerable.Range(0, PerThread), mine);
        }

        Assert.All(lines, l => Assert.Equal(40 + (int.Parse(l.AsSpan(3, 5), provider: null) * 37 % 300), l.Length));
    }

    [Fact]
    public void WrapsAroundTheRing_ForManyLaps_WithOddSizes()
    {
        var (spool, target, set) = Started(SpoolPath, AuditSpool.MinCapacity);
        var sent = new List<string>();
        long bytes = 0;
        using (spool)
        {
            for (var i = 0; bytes < 12 * AuditSpool.MinCapacity; i++)
            {
                var line = Line($"{i} ", 12 + (i * 389 % (spool.MaxLineLength - 12)));
                Assert.True(spool.TryAppend(set, line));
                sent.Add(Text(line));
                bytes += AuditSpool.RecordHeaderSize + line.Length;
            }

            spool.Flush();
        }

        Assert.Equal(sent, target.Lines);
    }

    [Fact]
    public void WhatAccumulatesWhileTheSinksWrite_GoesToThemInOneWrite()
    {
        var gate = new GateTarget();
        var (spool, _, set) = Started(SpoolPath, Small, gate);
        using (spool)
        {
            Assert.True(spool.TryAppend(set, Line("first", 100)));
            Assert.True(gate.Entered.Wait(Bounded));
            for (var i = 0; i < 99; i++)
            {
                Assert.True(spool.TryAppend(set, Line($"next {i}", 300)));
            }

            gate.Release();
            spool.Flush();
        }

        Assert.Equal(100, gate.Lines.Count);
        Assert.Equal([1, 99], gate.Batches);
    }

    [Fact]
    public void LinesCommittedAtAGatewaysPace_ReachTheSinks_ManyPerWrite()
    {
        // One line every 100 us, as a gateway at 10,000 decisions a second commits them: a writer that wrote each line
        // as it came would make about as many writes as lines; one that gathers for GatherTime makes about one a millisecond.
        const int Count = 400;
        var (spool, target, set) = Started(SpoolPath, Small);
        using (spool)
        {
            var pace = Stopwatch.StartNew();
            for (var i = 0; i < Count; i++)
            {
                while (pace.Elapsed < TimeSpan.FromMicroseconds(100 * i))
                {
                    Thread.SpinWait(20);
                }

                Assert.True(spool.TryAppend(set, Line($"paced {i}", 200)));
            }

            spool.Flush();
        }

        Assert.Equal(Count, target.Lines.Count);
        Assert.True(target.Batches.Count <= Count / 4, $"{target.Batches.Count} writes for {Count} lines");
    }

    [Fact]
    public void ALineAsLongAsAllowed_GoesThrough_ALongerOne_IsNotTaken()
    {
        var (spool, target, set) = Started(SpoolPath, Small);
        using (spool)
        {
            Assert.Equal(Small / 2 - AuditSpool.RecordHeaderSize, spool.MaxLineLength);
            var longest = Line("longest", spool.MaxLineLength);
            Assert.True(spool.TryAppend(set, Line("short", 10)));
            Assert.True(spool.TryAppend(set, longest));
            Assert.False(spool.TryAppend(set, Line("too long", spool.MaxLineLength + 1)));
            Assert.True(spool.TryAppend(set, longest));
            spool.Flush();
        }

        Assert.Equal([Text(Line("short", 10)), Text(Line("longest", Small / 2 - 24)), Text(Line("longest", Small / 2 - 24))], target.Lines);
    }

    [Fact]
    public void ATrail_WritesALineTooLongForTheSpool_ItselfAndInOrder()
    {
        using var spool = AuditSpool.Open(SpoolPath, Small, NullLogger.Instance);
        var file = new RecordingSink("file:a");
        using (var trail = new AuditTrail([file], [], auditAllows: true, NullLogger.Instance, spool))
        {
            spool.Recover(new RecordingTarget());
            trail.Record(Decision("before", "/x"));
            trail.Record(Decision("long", "/" + new string('a', Small)));
            trail.Record(Decision("after", "/y"));
        }

        Assert.Equal(3, file.Lines.Count);
        Assert.Contains("\"before\"", file.Lines[0], StringComparison.Ordinal);
        Assert.True(file.Lines[1].Length > Small);
        Assert.Contains("\"after\"", file.Lines[2], StringComparison.Ordinal);
    }

    [Fact]
    public async Task AFullRing_MakesAppendersWait_UntilTheSinksTakeLines_AndNoLineIsDropped()
    {
        const int Threads = 2;
        const int PerThread = 400;
        var gate = new GateTarget();
        var (spool, _, set) = Started(SpoolPath, Small, gate);
        var returned = 0;
        using (spool)
        {
            Assert.True(spool.TryAppend(set, Line("first", 100)));
            Assert.True(gate.Entered.Wait(Bounded));
            var writers = Enumerable.Range(0, Threads).Select(t => Task.Factory.StartNew(() =>
            {
                for (var i = 0; i < PerThread; i++)
                {
                    Assert.True(spool.TryAppend(set, Line($"t{t} {i:D3} ", 1000)));
                    Interlocked.Increment(ref returned);
                }
            }, TaskCreationOptions.LongRunning)).ToArray();

            // 800 lines of 1 KB do not fit in 64 KiB: the appenders stop once the ring is full, while the sink holds on.
            var stable = 0;
            var seen = -1;
            for (var round = 0; round < 200 && stable < 5; round++)
            {
                await Task.Delay(50);
                var now = Volatile.Read(ref returned);
                stable = now == seen ? stable + 1 : 0;
                seen = now;
            }

            Assert.Equal(5, stable);
            Assert.InRange(Volatile.Read(ref returned), 1, Small / 1024);
            Assert.All(writers, w => Assert.False(w.IsCompleted));

            gate.Release();
            await Task.WhenAll(writers).WaitAsync(Bounded);
            spool.Flush();
        }

        Assert.Equal(Threads * PerThread, returned);
        var lines = gate.Lines;
        Assert.Equal(1 + Threads * PerThread, lines.Count);
        for (var t = 0; t < Threads; t++)
        {
            Assert.Equal(Enumerable.Range(0, PerThread).Select(i => $"t{t} {i:D3}"),
                lines.Where(l => l.StartsWith($"t{t} ", StringComparison.Ordinal)).Select(l => l[..6]));
        }
    }

    [Fact]
    public void ACrash_LeavesEveryCommittedLine_ForTheNextStart_AndAfterACleanCloseThereIsNothing()
    {
        var lines = Enumerable.Range(0, 10).Select(i => Line($"line {i}", 200)).ToList();
        var crashed = CrashCopy(lines);

        var recovered = new RecordingTarget();
        using (var spool = AuditSpool.Open(crashed, Small, NullLogger.Instance))
        {
            var recovery = spool.Recover(recovered);
            Assert.Equal(new SpoolRecovery(Ran: true, Lines: 10, SkippedBytes: 0), recovery);
        }

        // The first line was being written when the process died: it is given again (at least once, never zero times).
        Assert.Equal(lines.Select(Text), recovered.Lines);
        using var reopened = AuditSpool.Open(crashed, Small, NullLogger.Instance);
        Assert.Equal(new SpoolRecovery(Ran: false, 0, 0), reopened.Recover(new RecordingTarget()));
    }

    [Theory]
    [InlineData("payload")]
    [InlineData("length")]
    [InlineData("commit")]
    public void ARecordTheCrashCutOff_IsSkipped_AndTheSkipIsLogged(string damage)
    {
        const int Length = 200;
        var lines = Enumerable.Range(0, 10).Select(i => Line($"line {i}", Length)).ToList();
        var crashed = CrashCopy(lines);
        var last = AuditSpool.HeaderSize + 9 * ((AuditSpool.RecordHeaderSize + Length + 7) / 8 * 8);
        using (var file = new FileStream(crashed, FileMode.Open, FileAccess.ReadWrite))
        {
            Span<byte> word = stackalloc byte[4];
            switch (damage)
            {
                case "payload":
                    file.Position = last + AuditSpool.RecordHeaderSize + 3;
                    file.WriteByte((byte)'#');
                    break;
                case "length":
                    BinaryPrimitives.WriteUInt32LittleEndian(word, Length - 8);
                    file.Position = last + 4;
                    file.Write(word);
                    break;
                default:
                    file.Position = last;
                    file.Write(new byte[4]);
                    break;
            }
        }

        var logged = new LoggedEvents();
        var recovered = new RecordingTarget();
        using var spool = AuditSpool.Open(crashed, Small, logged);
        var recovery = spool.Recover(recovered);

        Assert.Equal(lines.Take(9).Select(Text), recovered.Lines);
        Assert.Equal(9, recovery.Lines);
        Assert.InRange(recovery.SkippedBytes, 8, AuditSpool.RecordHeaderSize + Length);
        Assert.Contains(crashed, Assert.Single(logged.With(504)), StringComparison.Ordinal);
    }

    [Fact]
    public void RecordsOfAnEarlierLap_AreNotGivenAgain()
    {
        var lines = Enumerable.Range(0, 10).Select(i => Line($"line {i}", 200)).ToList();
        var crashed = CrashCopy(lines);

        // As if the sinks had taken a whole lap since: the records still in the ring are a lap old.
        using (var file = new FileStream(crashed, FileMode.Open, FileAccess.ReadWrite))
        {
            Span<byte> delivered = stackalloc byte[8];
            BinaryPrimitives.WriteInt64LittleEndian(delivered, Small);
            file.Position = 24;
            file.Write(delivered);
        }

        var recovered = new RecordingTarget();
        var later = new RecordingTarget();
        using (var spool = AuditSpool.Open(crashed, Small, NullLogger.Instance))
        {
            Assert.Equal(new SpoolRecovery(Ran: true, 0, 0), spool.Recover(recovered));
            var set = spool.Register(later);
            Assert.True(spool.TryAppend(set, Line("new", 50)));
            spool.Flush();
        }

        Assert.Empty(recovered.Lines);
        Assert.Equal([Text(Line("new", 50))], later.Lines);
    }

    [Fact]
    public void ASpoolOfAnotherSize_IsRecoveredWithItsOwn_ThenMadeTheSizeAsked()
    {
        var lines = Enumerable.Range(0, 10).Select(i => Line($"line {i}", 300)).ToList();
        var crashed = CrashCopy(lines);

        var recovered = new RecordingTarget();
        using (var spool = AuditSpool.Open(crashed, 2 * Small, NullLogger.Instance))
        {
            Assert.Equal(10, spool.Recover(recovered).Lines);
            Assert.Equal(2 * Small, spool.Capacity);
            var set = spool.Register(recovered);
            Assert.True(spool.TryAppend(set, Line("after", 40)));
            spool.Flush();
        }

        Assert.Equal([.. lines.Select(Text), Text(Line("after", 40))], recovered.Lines);
        Assert.Equal(AuditSpool.HeaderSize + 2 * Small, new FileInfo(crashed).Length);
    }

    [Fact]
    public void TheFile_IsCreatedMode0600_AndASecondOpenIsRefused()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        using var spool = AuditSpool.Open(Path.Combine(_directory, "state", "ztgw-audit.spool"), Small, NullLogger.Instance);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(spool.Path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.Combine(_directory, "state")));
        Assert.Throws<IOException>(() => AuditSpool.Open(spool.Path, Small, NullLogger.Instance));
    }

    [Fact]
    public void AFileThatIsNotASpool_IsRefused_AndLeftAsItIs()
    {
        var content = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("{\"some\":\"log\"}\n", 1000)));
        File.WriteAllBytes(SpoolPath, content);

        var refused = Assert.Throws<IOException>(() => AuditSpool.Open(SpoolPath, Small, NullLogger.Instance));

        Assert.StartsWith("is not an audit spool", refused.Message, StringComparison.Ordinal);
        Assert.Equal(content, File.ReadAllBytes(SpoolPath));
    }

    [Fact]
    public void ATrail_HandsOtlpCopiesEachLine_WhileItsFileSinksWaitForTheWriter_AndItsDisposeDeliversEverything()
    {
        using var spool = AuditSpool.Open(SpoolPath, Small, NullLogger.Instance);
        var file = new GateSink("file:a");
        var copy = new RecordingSink("otlp:b");
        using (var trail = new AuditTrail([file], [copy], auditAllows: true, NullLogger.Instance, spool))
        {
            spool.Recover(new RecordingTarget());
            trail.Record(Decision("one", "/x"));
            Assert.True(file.Entered.Wait(Bounded));
            trail.Record(Decision("two", "/y"));

            Assert.Equal(2, copy.Lines.Count);
            Assert.Empty(file.Lines);
            file.Release();
        }

        Assert.Equal(2, file.Lines.Count);
        Assert.Contains("\"two\"", file.Lines[1], StringComparison.Ordinal);
    }

    [Fact]
    public void ASinkThatFails_IsCountedForEveryLine_AndTheOthersStillGetThem()
    {
        var broken = new ThrowingSink("file:/full-disk/" + Guid.NewGuid().ToString("N"));
        var good = new RecordingSink("file:b");
        long failures = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name == "ztgw.audit.failures")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "sink" && Equals(tag.Value, broken.Name))
                {
                    Interlocked.Add(ref failures, value);
                }
            }
        });
        listener.Start();

        using var spool = AuditSpool.Open(SpoolPath, Small, NullLogger.Instance);
        using (var trail = new AuditTrail([broken, good], [], auditAllows: true, NullLogger.Instance, spool))
        {
            spool.Recover(new RecordingTarget());
            for (var i = 0; i < 3; i++)
            {
                trail.Record(Decision("d" + i, "/x"));
            }
        }

        Assert.Equal(3, good.Lines.Count);
        Assert.Equal(3, Interlocked.Read(ref failures));
    }

    [Fact]
    public void TheStdoutSink_WritesABatch_InPiecesOfWholeLinesThatAPipeKeepsWhole()
    {
        var lines = Enumerable.Range(0, 40).Select(i => Line($"line {i}", i == 20 ? 9000 : 300 + i)).ToList();
        var batch = lines.SelectMany(l => l).ToArray();
        using var stream = new WriteRecordingStream();
        var sink = new StreamSink("stdout", stream);

        sink.Write(batch);

        Assert.Equal(batch, stream.ToArray());
        Assert.True(stream.Writes.Count > 1);
        Assert.All(stream.Writes, w => Assert.True(w.Length <= StreamSink.AtomicBytes || Split(w).Count == 1, $"a write of {w.Length} bytes"));
        Assert.All(stream.Writes, w => Assert.Equal((byte)'\n', w[^1]));
    }

    private static AuditEvent Decision(string id, string path) => new()
    {
        Time = DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_000_000),
        DecisionId = id,
        TraceId = "0af7651916cd43dd8448eb211c80319c",
        Decision = new Decision { Allowed = false, Reason = ReasonCode.RouteNotFound, DestinationSegment = "hr" },
        Reason = ReasonCode.RouteNotFound,
        Method = "GET",
        Path = path,
        StatusCode = 404,
        ClientAddress = IPAddress.Loopback,
        PolicyVersion = "v1",
    };

    private static List<string> Split(ReadOnlySpan<byte> lines)
    {
        var split = new List<string>();
        foreach (var line in Encoding.ASCII.GetString(lines).Split('\n'))
        {
            if (line.Length > 0)
            {
                split.Add(line + "\n");
            }
        }

        return split;
    }

    private sealed class WriteRecordingStream : MemoryStream
    {
        public List<byte[]> Writes { get; } = [];

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            Writes.Add(buffer.ToArray());
            base.Write(buffer);
        }
    }

    /// <summary>Keeps what the spool hands over, line by line, and how many lines each delivery held.</summary>
    private class RecordingTarget : IAuditSpoolTarget
    {
        private readonly List<string> _lines = [];
        private readonly List<int> _batches = [];

        public List<string> Lines
        {
            get
            {
                lock (_lines)
                {
                    return [.. _lines];
                }
            }
        }

        public List<int> Batches
        {
            get
            {
                lock (_lines)
                {
                    return [.. _batches];
                }
            }
        }

        public virtual void Deliver(ReadOnlySpan<byte> lines, int count)
        {
            var split = Split(lines);
            Assert.Equal(count, split.Count);
            lock (_lines)
            {
                _lines.AddRange(split);
                _batches.Add(count);
            }
        }
    }

    /// <summary>A target whose first delivery waits until the test releases it: the writer is held there.</summary>
    private sealed class GateTarget : RecordingTarget
    {
        private readonly ManualResetEventSlim _open = new(false);

        public ManualResetEventSlim Entered { get; } = new(false);

        public void Release() => _open.Set();

        public override void Deliver(ReadOnlySpan<byte> lines, int count)
        {
            Entered.Set();
            Assert.True(_open.Wait(Bounded));
            base.Deliver(lines, count);
        }
    }

    private class RecordingSink(string name) : IAuditSink
    {
        private readonly List<string> _lines = [];

        public string Name { get; } = name;

        public List<string> Lines
        {
            get
            {
                lock (_lines)
                {
                    return [.. _lines];
                }
            }
        }

        public virtual void Write(ReadOnlySpan<byte> line)
        {
            var split = Split(line);
            lock (_lines)
            {
                _lines.AddRange(split);
            }
        }

        public void Dispose()
        {
        }
    }

    private sealed class GateSink(string name) : RecordingSink(name)
    {
        private readonly ManualResetEventSlim _open = new(false);

        public ManualResetEventSlim Entered { get; } = new(false);

        public void Release() => _open.Set();

        public override void Write(ReadOnlySpan<byte> line)
        {
            Entered.Set();
            if (!_open.Wait(Bounded))
            {
                throw new IOException("never released");
            }

            base.Write(line);
        }
    }

    private sealed class ThrowingSink(string name) : IAuditSink
    {
        public string Name { get; } = name;

        public void Write(ReadOnlySpan<byte> line) => throw new IOException("disk full");

        public void Dispose()
        {
        }
    }
}
