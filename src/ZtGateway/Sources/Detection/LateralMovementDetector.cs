using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using System.Threading.Channels;
using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Engine;
using ZtGateway.Sources.Continuous;

namespace ZtGateway.Sources.Detection;

/// <summary>
/// Watches the decision stream for lateral movement, per principal and per device, in sliding windows
/// (<c>detection:</c> in gateway.yaml): a burst of denials, fan-out to more destination segments or routes
/// than allowed, first-seen source-to-destination segment pairs once the learning period is over, and
/// every workload token used from outside its segment. Each finding is written to the audit sinks as an
/// OCSF Detection Finding, counted (<c>ztgw.detection.findings</c>) and added as an event to the current
/// span; with <c>response: contain</c> the principal (and its device) is quarantined for <c>containFor</c>.
/// </summary>
/// <remarks>
/// <see cref="Observe"/> runs on the request's thread after the decision: one dictionary lookup and a short
/// lock per principal and device, with bounded state (a window never holds more than <c>maxDenials + 1</c>
/// denials). Quarantining and remembering pairs touch the disk and run on a background worker, so a request
/// never waits for them; the quarantine is in force a moment after the finding. With <see cref="Share"/> (shared state), the
/// windows are counted over the whole deployment: what each track observed is sent in batches off the request path, and a
/// window finding is raised after the batch by the one gateway that wins its election.
/// </remarks>
internal sealed partial class LateralMovementDetector : IAsyncDisposable
{
    private static readonly Meter Meter = new("ZtGateway");
    private static readonly Counter<long> Findings = Meter.CreateCounter<long>("ztgw.detection.findings", description: "Lateral-movement findings raised");

    private readonly Func<DetectionSettings> _settings;
    private readonly IDetectionOutlet _outlet;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private long _learningSinceTicks;
    private readonly ConcurrentDictionary<TrackKey, Track> _tracks = new();
    private readonly ConcurrentDictionary<(string Source, string Destination), byte> _knownPairs = new();
    private readonly Channel<Work> _work = Channel.CreateUnbounded<Work>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _worker;
    private long _nextSweepTicks;
    private readonly string _instance = Guid.NewGuid().ToString("N");
    private readonly ConcurrentQueue<Track> _dirty = new();
    private readonly ConcurrentQueue<Witness> _pairCandidates = new();
    private readonly ConcurrentQueue<TaskCompletionSource> _flushWaiters = new();
    private readonly SemaphoreSlim _flushSignal = new(0, int.MaxValue);
    private readonly CancellationTokenSource _stopping = new();
    private ISharedWindows? _shared;
    private Task _flusher = Task.CompletedTask;
    private long _denialSequence;
    private int _signalled; // 1 while a flush is pending

    /// <param name="settings">The live <c>detection:</c> settings; read on every observation so a reload applies at once.</param>
    /// <param name="outlet">Where findings, containments and learned pairs go.</param>
    /// <param name="timeProvider">The clock of windows and the learning period.</param>
    /// <param name="logger">Findings are also logged.</param>
    /// <param name="learningSince">When the learning period began (kept in the state file across restarts).</param>
    /// <param name="knownPairs">Segment pairs already learned.</param>
    public LateralMovementDetector(Func<DetectionSettings> settings, IDetectionOutlet outlet, TimeProvider timeProvider, ILogger logger,
        DateTimeOffset learningSince, IEnumerable<(string Source, string Destination)> knownPairs)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(outlet);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentNullException.ThrowIfNull(knownPairs);
        _settings = settings;
        _outlet = outlet;
        _time = timeProvider;
        _logger = logger;
        _learningSinceTicks = learningSince.UtcTicks;
        foreach (var pair in knownPairs)
        {
            _knownPairs.TryAdd(pair, 0);
        }

        _worker = Task.Run(RunWorkerAsync);
    }

    /// <summary>The least time between two batches of observations sent to the shared windows.</summary>
    public static readonly TimeSpan SharedFlushInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Counts the windows over the whole deployment from now on: observations are sent to <paramref name="shared"/> in batches off the
    /// request path (at most every <see cref="SharedFlushInterval"/>), and a window finding (and a first-seen pair) is raised by the one
    /// gateway that wins its election. While the store does not answer, this gateway decides on what it saw, as without sharing.
    /// </summary>
    public void Share(ISharedWindows shared)
    {
        ArgumentNullException.ThrowIfNull(shared);
        if (Interlocked.CompareExchange(ref _shared, shared, null) is not null)
        {
            throw new InvalidOperationException("The detector already shares its windows.");
        }

        _flusher = Task.Run(RunFlusherAsync);
    }

    /// <summary>When the learning period began.</summary>
    public DateTimeOffset LearningSince => new(Interlocked.Read(ref _learningSinceTicks), TimeSpan.Zero);

    /// <summary>
    /// Takes what another gateway of the deployment learned (shared state): a segment pair it saw is not new here, and
    /// the learning period began at the earliest start any gateway knows of.
    /// </summary>
    public void Learn(JournalRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (record.Type == JournalRecordTypes.Pair && record.SourceSegment is { } source && record.DestinationSegment is { } destination)
        {
            _knownPairs.TryAdd((source, destination), 0);
        }
        else if (record.Type == JournalRecordTypes.Learning && record.At is { } at)
        {
            var ticks = at.UtcTicks;
            var current = Interlocked.Read(ref _learningSinceTicks);
            while (ticks < current)
            {
                var seen = Interlocked.CompareExchange(ref _learningSinceTicks, ticks, current);
                if (seen == current)
                {
                    break;
                }

                current = seen;
            }
        }
    }

    /// <summary>Feeds one decision. Never throws on the request path and never waits for the disk.</summary>
    public void Observe(Decision decision, RequestContext request, string decisionId, string traceId)
    {
        ArgumentNullException.ThrowIfNull(decision);
        ArgumentNullException.ThrowIfNull(request);

        // Refusals of a quarantine are the containment working, not new behaviour; counting them would only extend it.
        if (request.Principal is not { } principal
            || decision.Reason is ReasonCode.PrincipalQuarantined or ReasonCode.DeviceQuarantined)
        {
            return;
        }

        var settings = _settings();
        var now = _time.GetUtcNow();
        var denied = !decision.Allowed;
        var principalId = PrincipalIds.Of(principal);
        var device = request.DeviceStatus == DeviceStatus.Verified ? request.Device?.DeviceId : null;
        var witness = new Witness(principal, principalId, device, decision, request.ClientAddress, decisionId, traceId);

        // Shared windows: the deployment's counts decide, in the next batch; while the store does not answer, this gateway's own do.
        var shared = _shared;
        var local = shared is null || !shared.Available;
        var byPrincipal = Update(new TrackKey(false, principalId), settings, now, denied, witness, shared is not null, local);
        var byDevice = device is null ? default : Update(new TrackKey(true, device), settings, now, denied, witness, shared is not null, local);

        var raised = byPrincipal.Raised | byDevice.Raised;
        if (decision.Reason == ReasonCode.SourceMismatch)
        {
            raised |= 1 << (int)FindingKind.SourceMismatch;
        }

        if (IsFirstSeenPair(decision, settings, now))
        {
            if (local)
            {
                raised |= 1 << (int)FindingKind.NewSegmentPair;
            }
            else
            {
                _pairCandidates.Enqueue(witness);
                SignalFlush();
            }
        }

        ScheduleSweep(now, settings.Window);
        if (raised == 0)
        {
            return;
        }

        for (var kind = 0; kind < FindingKinds.Count; kind++)
        {
            var bit = 1 << kind;
            if ((raised & bit) == 0)
            {
                continue;
            }

            var fromPrincipal = (byPrincipal.Raised & bit) != 0 || (FindingKind)kind is FindingKind.SourceMismatch or FindingKind.NewSegmentPair;
            var fromDevice = (byDevice.Raised & bit) != 0;
            var counts = fromPrincipal ? byPrincipal : byDevice;
            var scope = fromPrincipal && fromDevice ? "principal,device" : fromPrincipal ? QuarantineTargets.Principal : QuarantineTargets.Device;
            var (count, threshold) = Measure((FindingKind)kind, counts.Denials, counts.Segments, counts.Routes, settings);
            Raise((FindingKind)kind, witness, scope, count, threshold, settings, now);
        }
    }

    /// <summary>
    /// Completes when everything observed so far has been counted (in the shared windows, when they answer) and everything queued
    /// (findings' containments, learned pairs) has been handled.
    /// </summary>
    public async Task FlushAsync()
    {
        if (_shared is not null && !_stopping.IsCancellationRequested)
        {
            var counted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _flushWaiters.Enqueue(counted);
            SignalFlush();
            await counted.Task;
        }

        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_work.Writer.TryWrite(new Work(WorkKind.Flush, null, null, null, default, done)))
        {
            done.TrySetResult();
        }

        await done.Task;
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await _flusher;
        while (_flushWaiters.TryDequeue(out var waiter))
        {
            waiter.TrySetResult();
        }

        _work.Writer.TryComplete();
        await _worker;
        _stopping.Dispose();
        _flushSignal.Dispose();
    }

    private void SignalFlush()
    {
        if (Interlocked.Exchange(ref _signalled, 1) == 0)
        {
            _flushSignal.Release();
        }
    }

    // Sends what was observed since the last batch, at most once per interval, and raises what the deployment's counts show.
    private async Task RunFlusherAsync()
    {
        var token = _stopping.Token;
        while (!token.IsCancellationRequested)
        {
            try
            {
                await _flushSignal.WaitAsync(token);
                Volatile.Write(ref _signalled, 0);
                var waiters = new List<TaskCompletionSource>();
                while (_flushWaiters.TryDequeue(out var waiter))
                {
                    waiters.Add(waiter);
                }

                try
                {
                    await CountSharedAsync(token);
                }
                finally
                {
                    foreach (var waiter in waiters)
                    {
                        waiter.TrySetResult();
                    }
                }

                await Task.Delay(SharedFlushInterval, token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Never let one bad batch stop the counting: the next batch is sent as usual.
                Log.WorkFailed(_logger, "shared count", ex);
            }
        }
    }

    private async Task CountSharedAsync(CancellationToken token)
    {
        var shared = _shared!;
        var settings = _settings();
        var now = _time.GetUtcNow();
        var batch = new List<Pending>();
        while (_dirty.TryDequeue(out var track))
        {
            if (track.TakePending(out var pending))
            {
                batch.Add(pending);
            }
        }

        var candidates = new List<Candidate>();
        if (batch.Count > 0)
        {
            var updates = new List<SharedWindowUpdate>();
            var first = new int[batch.Count];
            for (var i = 0; i < batch.Count; i++)
            {
                var pending = batch[i];
                first[i] = updates.Count;
                var subject = pending.Key.Subject;
                updates.Add(new SharedWindowUpdate(subject, SharedWindowSet.Denials,
                    [.. pending.Denials.Select(at => KeyValuePair.Create(_instance + ":" + Interlocked.Increment(ref _denialSequence), at))],
                    settings.MaxDenials, settings.Window));
                updates.Add(new SharedWindowUpdate(subject, SharedWindowSet.Segments, pending.Segments, settings.MaxSegments, settings.Window));
                updates.Add(new SharedWindowUpdate(subject, SharedWindowSet.Routes, pending.Routes, settings.MaxRoutes, settings.Window));
            }

            var counts = await shared.AddAsync(updates, now, token);
            for (var i = 0; i < batch.Count; i++)
            {
                var pending = batch[i];
                if (counts is null)
                {
                    // Not counted over the deployment: what this gateway saw decides, as it would have on the request path.
                    Check(pending, pending.Local.Denials, pending.Local.Segments, pending.Local.Routes);
                    continue;
                }

                Check(pending, (int)counts[first[i]], (int)counts[first[i] + 1], (int)counts[first[i] + 2]);
            }
        }

        await ElectAsync(shared, candidates, settings, now, token);
        while (_pairCandidates.TryDequeue(out var witness))
        {
            var decision = witness.Decision;
            var won = await shared.TryElectAsync("pair\n" + decision.SourceSegment + "\n" + decision.DestinationSegment,
                FindingKind.NewSegmentPair.ToCode(), TimeSpan.FromDays(1), token);
            if (won != false)
            {
                Raise(FindingKind.NewSegmentPair, witness, QuarantineTargets.Principal, 1, 0, settings, now);
            }
        }

        void Check(Pending pending, int denials, int segments, int routes)
        {
            Over(pending, FindingKind.DenialBurst, Math.Max(denials, pending.Local.Denials), settings.MaxDenials);
            Over(pending, FindingKind.SegmentFanOut, Math.Max(segments, pending.Local.Segments), settings.MaxSegments);
            Over(pending, FindingKind.RouteFanOut, Math.Max(routes, pending.Local.Routes), settings.MaxRoutes);
        }

        void Over(Pending pending, FindingKind kind, int count, int threshold)
        {
            // One finding per kind per window and subject, as on the request path; the election makes it one for the deployment.
            if (count > threshold && pending.Track.TryQuiet(kind, now, settings.Window))
            {
                candidates.Add(new Candidate(pending, kind, count, threshold));
            }
        }
    }

    // A principal's and its device's candidates of the same kind make one finding, as they do when one request crosses both lines.
    private async Task ElectAsync(ISharedWindows shared, List<Candidate> candidates, DetectionSettings settings, DateTimeOffset now,
        CancellationToken token)
    {
        var taken = new bool[candidates.Count];
        for (var i = 0; i < candidates.Count; i++)
        {
            if (taken[i])
            {
                continue;
            }

            taken[i] = true;
            var candidate = candidates[i];
            var code = candidate.Kind.ToCode();
            if (await shared.TryElectAsync(candidate.Pending.Key.Subject, code, settings.Window, token) == false)
            {
                continue; // another gateway raised it
            }

            var witness = candidate.Pending.Witness;
            var scope = candidate.Pending.Key.IsDevice ? QuarantineTargets.Device : QuarantineTargets.Principal;
            if (!candidate.Pending.Key.IsDevice && witness.Device is { } device)
            {
                var partner = candidates.FindIndex(c => c.Kind == candidate.Kind && c.Pending.Key == new TrackKey(true, device));
                if (partner >= 0 && !taken[partner])
                {
                    taken[partner] = true;
                    if (await shared.TryElectAsync(candidates[partner].Pending.Key.Subject, code, settings.Window, token) != false)
                    {
                        scope = "principal,device";
                    }
                }
            }

            Raise(candidate.Kind, witness, scope, candidate.Count, candidate.Threshold, settings, now);
        }
    }

    private static (int Count, int Threshold) Measure(FindingKind kind, int denials, int segments, int routes, DetectionSettings settings) => kind switch
    {
        FindingKind.DenialBurst => (denials, settings.MaxDenials),
        FindingKind.SegmentFanOut => (segments, settings.MaxSegments),
        FindingKind.RouteFanOut => (routes, settings.MaxRoutes),
        _ => (1, 0),
    };

    private Counts Update(TrackKey key, DetectionSettings settings, DateTimeOffset now, bool denied, in Witness witness, bool share, bool raise)
    {
        while (true)
        {
            var track = _tracks.GetOrAdd(key, static key => new Track(key));
            if (track.TryObserve(settings, now, denied, witness, share, raise, out var counts, out var queue))
            {
                if (queue)
                {
                    _dirty.Enqueue(track);
                    SignalFlush();
                }

                return counts;
            }

            // The track was retired by a sweep between the lookup and the lock; the next lookup makes a fresh one.
        }
    }

    private bool IsFirstSeenPair(Decision decision, DetectionSettings settings, DateTimeOffset now)
    {
        var source = decision.SourceSegment;
        var destination = decision.DestinationSegment;
        if (source.Length == 0 || string.Equals(source, destination, StringComparison.Ordinal))
        {
            return false;
        }

        var learning = now < LearningSince + settings.LearningPeriod;

        // Only allowed traffic teaches what is normal; a refused probe during learning must not become the baseline.
        if (learning && !decision.Allowed)
        {
            return false;
        }

        if (_knownPairs.ContainsKey((source, destination)) || !_knownPairs.TryAdd((source, destination), 0))
        {
            return false;
        }

        _work.Writer.TryWrite(new Work(WorkKind.Remember, null, source, destination, now, null));
        return !learning;
    }

    private void Raise(FindingKind kind, in Witness witness, string scope, int count, int threshold, DetectionSettings settings, DateTimeOffset now)
    {
        var decision = witness.Decision;
        var contain = settings.Response == DetectionResponse.Contain;
        var finding = new DetectionFinding
        {
            Id = Guid.CreateVersion7(now).ToString(),
            Time = now,
            Kind = kind,
            PrincipalId = witness.PrincipalId,
            PrincipalKind = witness.Principal.Kind,
            DeviceId = witness.Device,
            Scope = scope,
            SourceSegment = decision.SourceSegment,
            DestinationSegment = decision.DestinationSegment,
            RouteId = decision.RouteId,
            ClientAddress = witness.ClientAddress,
            DecisionId = witness.DecisionId,
            TraceId = witness.TraceId,
            Count = count,
            Threshold = threshold,
            Window = settings.Window,
            Response = settings.Response,
            ContainedUntil = contain ? now + settings.ContainFor : null,
            Description = Describe(kind, count, threshold, settings.Window, decision),
        };

        var code = kind.ToCode();
        var response = contain ? "contain" : "alert";
        Findings.Add(1, new KeyValuePair<string, object?>("kind", code), new KeyValuePair<string, object?>("response", response));

        // On the request path the finding is an event of the request's span; a finding of the shared count has no span of its own.
        Activity.Current?.AddEvent(new ActivityEvent("ztgw.detection.finding", now, new ActivityTagsCollection
        {
            ["ztgw.finding.kind"] = code,
            ["ztgw.finding.id"] = finding.Id,
            ["ztgw.finding.response"] = response,
        }));
        Log.Finding(_logger, code, witness.PrincipalId, witness.Device, decision.SourceSegment, decision.DestinationSegment, response, finding.Id);
        try
        {
            _outlet.Report(finding);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException)
        {
            Log.ReportFailed(_logger, finding.Id, ex);
        }

        if (contain)
        {
            _work.Writer.TryWrite(new Work(WorkKind.Contain, finding, null, null, now, null));
        }
    }

    private static string Describe(FindingKind kind, int count, int threshold, TimeSpan window, Decision decision) => kind switch
    {
        FindingKind.DenialBurst => $"{count} denied requests within {window}; the limit is {threshold}",
        FindingKind.SegmentFanOut => $"requests to {count} distinct segments within {window}; the limit is {threshold}",
        FindingKind.RouteFanOut => $"requests to {count} distinct routes within {window}; the limit is {threshold}",
        FindingKind.NewSegmentPair => $"first request from segment {decision.SourceSegment} to segment {decision.DestinationSegment} since learning ended",
        _ => $"workload token used from a network outside segment {decision.SourceSegment}",
    };

    private void ScheduleSweep(DateTimeOffset now, TimeSpan window)
    {
        var next = Interlocked.Read(ref _nextSweepTicks);
        if (now.UtcTicks < next || Interlocked.CompareExchange(ref _nextSweepTicks, (now + window).UtcTicks, next) != next)
        {
            return;
        }

        _work.Writer.TryWrite(new Work(WorkKind.Sweep, null, null, null, now, null));
    }

    private async Task RunWorkerAsync()
    {
        await foreach (var work in _work.Reader.ReadAllAsync())
        {
            try
            {
                switch (work.Kind)
                {
                    case WorkKind.Contain:
                        _outlet.Contain(work.Finding!);
                        break;
                    case WorkKind.Remember:
                        _outlet.Remember(work.Source!, work.Destination!, work.At);
                        break;
                    case WorkKind.Sweep:
                        Sweep(work.At);
                        break;
                    default:
                        work.Done?.TrySetResult();
                        break;
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ObjectDisposedException or InvalidOperationException)
            {
                Log.WorkFailed(_logger, work.Kind.ToString(), ex);
            }
        }
    }

    // Principals and devices that have been quiet for a whole window hold nothing worth keeping.
    private void Sweep(DateTimeOffset now)
    {
        var window = _settings().Window;
        foreach (var (key, track) in _tracks)
        {
            if (track.TryRetire(now, window))
            {
                _tracks.TryRemove(new KeyValuePair<TrackKey, Track>(key, track));
            }
        }
    }

    private enum WorkKind
    {
        Flush,
        Contain,
        Remember,
        Sweep,
    }

    private sealed record Work(WorkKind Kind, DetectionFinding? Finding, string? Source, string? Destination, DateTimeOffset At, TaskCompletionSource? Done);

    /// <summary>A principal (<see cref="IsDevice"/> false) or a device.</summary>
    private readonly record struct TrackKey(bool IsDevice, string Id)
    {
        /// <summary>How the shared windows name it.</summary>
        public string Subject => (IsDevice ? "d\n" : "p\n") + Id;
    }

    /// <summary>The request a finding is about: the last one a track saw.</summary>
    private readonly record struct Witness(Principal Principal, string PrincipalId, string? Device, Decision Decision, IPAddress? ClientAddress,
        string DecisionId, string TraceId);

    /// <summary>What one track observed since its last batch, and what it counted itself.</summary>
    private sealed record Pending(Track Track, TrackKey Key, DateTimeOffset[] Denials, KeyValuePair<string, DateTimeOffset>[] Segments,
        KeyValuePair<string, DateTimeOffset>[] Routes, Witness Witness, Counts Local);

    private sealed record Candidate(Pending Pending, FindingKind Kind, int Count, int Threshold);

    /// <summary>What one track counted, and which kinds it raised (one bit per <see cref="FindingKind"/>).</summary>
    private readonly record struct Counts(int Raised, int Denials, int Segments, int Routes);

    /// <summary>The sliding windows of one principal or device, and what it observed since its last shared batch.</summary>
    private sealed class Track(TrackKey key)
    {
        private readonly Lock _gate = new();
        private readonly Queue<DateTimeOffset> _denials = new();
        private readonly Dictionary<string, DateTimeOffset> _segments = new(StringComparer.Ordinal);
        private readonly Dictionary<(string Segment, string Route), DateTimeOffset> _routes = [];
        private readonly DateTimeOffset[] _quietUntil = new DateTimeOffset[FindingKinds.Count];
        private readonly List<DateTimeOffset> _pendingDenials = [];
        private readonly Dictionary<string, DateTimeOffset> _pendingSegments = new(StringComparer.Ordinal);
        private readonly Dictionary<(string Segment, string Route), DateTimeOffset> _pendingRoutes = [];
        private Witness _witness;
        private Counts _counts;
        private DateTimeOffset _lastSeen;
        private bool _retired;
        private bool _dirty;

        public TrackKey Key => key;

        // share: keep what is observed for the next shared batch (queue says when the track must be queued for it).
        // raise: raise window findings from this track's own counts (no sharing, or the shared store does not answer).
        public bool TryObserve(DetectionSettings settings, DateTimeOffset now, bool denied, in Witness witness, bool share, bool raise, out Counts counts,
            out bool queue)
        {
            lock (_gate)
            {
                counts = default;
                queue = false;
                if (_retired)
                {
                    return false;
                }

                _lastSeen = now;
                var decision = witness.Decision;
                var cutoff = now - settings.Window;
                while (_denials.Count > 0 && _denials.Peek() <= cutoff)
                {
                    _denials.Dequeue();
                }

                if (denied)
                {
                    // Going over the limit needs only the newest limit+1 denials, so the window stays bounded.
                    _denials.Enqueue(now);
                    while (_denials.Count > settings.MaxDenials + 1)
                    {
                        _denials.Dequeue();
                    }
                }

                _segments[decision.DestinationSegment] = now;
                var segments = Live(_segments, cutoff, settings.MaxSegments);
                var routes = _routes.Count;
                if (decision.RouteId is { } route)
                {
                    _routes[(decision.DestinationSegment, route)] = now;
                    routes = Live(_routes, cutoff, settings.MaxRoutes);
                }

                var raised = 0;
                if (raise)
                {
                    raised |= Cross(FindingKind.DenialBurst, _denials.Count > settings.MaxDenials, now, settings.Window);
                    raised |= Cross(FindingKind.SegmentFanOut, segments > settings.MaxSegments, now, settings.Window);
                    raised |= Cross(FindingKind.RouteFanOut, routes > settings.MaxRoutes, now, settings.Window);
                }

                counts = new Counts(raised, _denials.Count, segments, routes);
                if (share)
                {
                    // Bounded like the windows: the deployment's count goes over a limit with the newest limit+1 members.
                    if (denied)
                    {
                        _pendingDenials.Add(now);
                        if (_pendingDenials.Count > settings.MaxDenials + 1)
                        {
                            _pendingDenials.RemoveAt(0);
                        }
                    }

                    Keep(_pendingSegments, decision.DestinationSegment, now, settings.MaxSegments);
                    if (decision.RouteId is { } pendingRoute)
                    {
                        Keep(_pendingRoutes, (decision.DestinationSegment, pendingRoute), now, settings.MaxRoutes);
                    }

                    _witness = witness;
                    _counts = counts;
                    queue = !_dirty;
                    _dirty = true;
                }

                return true;
            }
        }

        /// <summary>Takes what was observed since the last batch.</summary>
        public bool TakePending(out Pending pending)
        {
            lock (_gate)
            {
                pending = null!;
                if (!_dirty)
                {
                    return false;
                }

                pending = new Pending(this, key, [.. _pendingDenials],
                    [.. _pendingSegments],
                    [.. _pendingRoutes.Select(r => KeyValuePair.Create(r.Key.Segment + "\n" + r.Key.Route, r.Value))],
                    _witness, _counts);
                _pendingDenials.Clear();
                _pendingSegments.Clear();
                _pendingRoutes.Clear();
                _dirty = false;
                return true;
            }
        }

        /// <summary>True, once per window, when a finding of <paramref name="kind"/> may be raised.</summary>
        public bool TryQuiet(FindingKind kind, DateTimeOffset now, TimeSpan window)
        {
            lock (_gate)
            {
                return Cross(kind, true, now, window) != 0;
            }
        }

        public bool TryRetire(DateTimeOffset now, TimeSpan window)
        {
            lock (_gate)
            {
                if (_dirty || now - _lastSeen < window || _quietUntil.Any(q => q > now))
                {
                    return false;
                }

                _retired = true;
                return true;
            }
        }

        // One finding per kind per window: a probe that keeps going is one story, not one alert per request.
        private int Cross(FindingKind kind, bool over, DateTimeOffset now, TimeSpan window)
        {
            if (!over || now < _quietUntil[(int)kind])
            {
                return 0;
            }

            _quietUntil[(int)kind] = now + window;
            return 1 << (int)kind;
        }

        private static void Keep<TKey>(Dictionary<TKey, DateTimeOffset> pending, TKey member, DateTimeOffset now, int limit)
            where TKey : notnull
        {
            if (pending.Count <= limit || pending.ContainsKey(member))
            {
                pending[member] = now;
            }
        }

        // Counts the entries seen within the window, dropping stale ones only when the count could matter.
        private static int Live<TKey>(Dictionary<TKey, DateTimeOffset> seen, DateTimeOffset cutoff, int limit)
            where TKey : notnull
        {
            if (seen.Count <= limit)
            {
                return seen.Count;
            }

            foreach (var (member, at) in seen)
            {
                if (at <= cutoff)
                {
                    seen.Remove(member);
                }
            }

            return seen.Count;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 700, Level = LogLevel.Warning,
            Message = "Lateral-movement finding {Kind} for {Principal} (device {Device}) from {Source} to {Destination}; response {Response} ({FindingId})")]
        public static partial void Finding(ILogger logger, string kind, string principal, string? device, string source, string destination, string response, string findingId);

        [LoggerMessage(EventId = 701, Level = LogLevel.Error, Message = "Finding {FindingId} could not be written to the audit sinks")]
        public static partial void ReportFailed(ILogger logger, string findingId, Exception exception);

        [LoggerMessage(EventId = 702, Level = LogLevel.Error, Message = "Detection {Work} failed")]
        public static partial void WorkFailed(ILogger logger, string work, Exception exception);
    }
}
