using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
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
/// never waits for them; the quarantine is in force a moment after the finding.
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

        var byPrincipal = Update(new TrackKey(false, principalId), settings, now, denied, decision);
        var byDevice = device is null ? default : Update(new TrackKey(true, device), settings, now, denied, decision);

        var raised = byPrincipal.Raised | byDevice.Raised;
        if (decision.Reason == ReasonCode.SourceMismatch)
        {
            raised |= 1 << (int)FindingKind.SourceMismatch;
        }

        if (IsFirstSeenPair(decision, settings, now))
        {
            raised |= 1 << (int)FindingKind.NewSegmentPair;
        }

        ScheduleSweep(now, settings.Window);
        if (raised == 0)
        {
            return;
        }

        for (var kind = 0; kind < FindingKinds.Count; kind++)
        {
            if ((raised & (1 << kind)) != 0)
            {
                Raise((FindingKind)kind, byPrincipal, byDevice, settings, now, principal, principalId, device, decision, request, decisionId, traceId);
            }
        }
    }

    /// <summary>Completes when everything queued so far (containments, learned pairs) has been handled.</summary>
    public Task FlushAsync()
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_work.Writer.TryWrite(new Work(WorkKind.Flush, null, null, null, default, done)))
        {
            done.TrySetResult();
        }

        return done.Task;
    }

    public async ValueTask DisposeAsync()
    {
        _work.Writer.TryComplete();
        await _worker;
    }

    private Counts Update(TrackKey key, DetectionSettings settings, DateTimeOffset now, bool denied, Decision decision)
    {
        while (true)
        {
            var track = _tracks.GetOrAdd(key, static _ => new Track());
            if (track.TryObserve(settings, now, denied, decision, out var counts))
            {
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

    private void Raise(FindingKind kind, Counts byPrincipal, Counts byDevice, DetectionSettings settings, DateTimeOffset now,
        Principal principal, string principalId, string? device, Decision decision, RequestContext request, string decisionId, string traceId)
    {
        var bit = 1 << (int)kind;
        var fromPrincipal = (byPrincipal.Raised & bit) != 0 || kind is FindingKind.SourceMismatch or FindingKind.NewSegmentPair;
        var fromDevice = (byDevice.Raised & bit) != 0;
        var counts = fromPrincipal ? byPrincipal : byDevice;
        var (count, threshold) = kind switch
        {
            FindingKind.DenialBurst => (counts.Denials, settings.MaxDenials),
            FindingKind.SegmentFanOut => (counts.Segments, settings.MaxSegments),
            FindingKind.RouteFanOut => (counts.Routes, settings.MaxRoutes),
            _ => (1, 0),
        };
        var contain = settings.Response == DetectionResponse.Contain;
        var finding = new DetectionFinding
        {
            Id = Guid.CreateVersion7(now).ToString(),
            Time = now,
            Kind = kind,
            PrincipalId = principalId,
            PrincipalKind = principal.Kind,
            DeviceId = device,
            Scope = fromPrincipal && fromDevice ? "principal,device" : fromPrincipal ? QuarantineTargets.Principal : QuarantineTargets.Device,
            SourceSegment = decision.SourceSegment,
            DestinationSegment = decision.DestinationSegment,
            RouteId = decision.RouteId,
            ClientAddress = request.ClientAddress,
            DecisionId = decisionId,
            TraceId = traceId,
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
        Activity.Current?.AddEvent(new ActivityEvent("ztgw.detection.finding", now, new ActivityTagsCollection
        {
            ["ztgw.finding.kind"] = code,
            ["ztgw.finding.id"] = finding.Id,
            ["ztgw.finding.response"] = response,
        }));
        Log.Finding(_logger, code, principalId, device, decision.SourceSegment, decision.DestinationSegment, response, finding.Id);
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
    private readonly record struct TrackKey(bool IsDevice, string Id);

    /// <summary>What one track counted, and which kinds it raised (one bit per <see cref="FindingKind"/>).</summary>
    private readonly record struct Counts(int Raised, int Denials, int Segments, int Routes);

    /// <summary>The sliding windows of one principal or device.</summary>
    private sealed class Track
    {
        private readonly Lock _gate = new();
        private readonly Queue<DateTimeOffset> _denials = new();
        private readonly Dictionary<string, DateTimeOffset> _segments = new(StringComparer.Ordinal);
        private readonly Dictionary<(string Segment, string Route), DateTimeOffset> _routes = [];
        private readonly DateTimeOffset[] _quietUntil = new DateTimeOffset[FindingKinds.Count];
        private DateTimeOffset _lastSeen;
        private bool _retired;

        public bool TryObserve(DetectionSettings settings, DateTimeOffset now, bool denied, Decision decision, out Counts counts)
        {
            lock (_gate)
            {
                counts = default;
                if (_retired)
                {
                    return false;
                }

                _lastSeen = now;
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
                raised |= Cross(FindingKind.DenialBurst, _denials.Count > settings.MaxDenials, now, settings.Window);
                raised |= Cross(FindingKind.SegmentFanOut, segments > settings.MaxSegments, now, settings.Window);
                raised |= Cross(FindingKind.RouteFanOut, routes > settings.MaxRoutes, now, settings.Window);
                counts = new Counts(raised, _denials.Count, segments, routes);
                return true;
            }
        }

        public bool TryRetire(DateTimeOffset now, TimeSpan window)
        {
            lock (_gate)
            {
                if (now - _lastSeen < window || _quietUntil.Any(q => q > now))
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

        // Counts the entries seen within the window, dropping stale ones only when the count could matter.
        private static int Live<TKey>(Dictionary<TKey, DateTimeOffset> seen, DateTimeOffset cutoff, int limit)
            where TKey : notnull
        {
            if (seen.Count <= limit)
            {
                return seen.Count;
            }

            foreach (var (key, at) in seen)
            {
                if (at <= cutoff)
                {
                    seen.Remove(key);
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
