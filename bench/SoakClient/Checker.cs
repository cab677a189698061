using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace SoakClient;

/// <summary>
/// <c>SoakClient check --work DIR</c>: reads what the soak left in its work folder (the client's responses and
/// SET deliveries, the audit file, the memory samples, the script's events, the gateway's logs) and judges it.
/// Prints one line per check and a summary, writes the figures as JSON, exits 1 when a check failed.
/// </summary>
internal sealed partial class Checker
{
    private const long Second = 1_000_000;
    private static readonly JsonSerializerOptions Indented = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private readonly string _work;
    private readonly Arguments _args;
    private readonly List<Verdict> _checks = [];
    private readonly Dictionary<string, object?> _figures = new(StringComparer.Ordinal);
    private readonly Events _events;
    private readonly List<Exchange> _exchanges;
    private readonly List<SetDelivery> _sets;
    private readonly Dictionary<int, (long Posted, long? Acknowledged)> _setTimes = [];

    private Checker(string work, Arguments args)
    {
        _work = work;
        _args = args;
        _events = Events.Read(Path.Join(work, "events.tsv"));
        _exchanges = [.. File.ReadLines(Path.Join(work, "client", "responses.tsv")).Skip(1).Where(l => l.Length > 0).Select(Exchange.Parse)];
        _sets = [.. File.ReadLines(Path.Join(work, "client", "sets.tsv")).Skip(1).Where(l => l.Length > 0).Select(SetDelivery.Parse)];
        foreach (var group in _sets.GroupBy(s => s.Token))
        {
            var ack = group.FirstOrDefault(s => s.Status == 202);
            _setTimes[group.Key] = (group.Min(s => s.PostUs), ack?.EndUs);
        }
    }

    private long? Kill => _events.First("kill");

    private long? Ready => _events.First("restart-ready");

    public static Task<int> RunAsync(Arguments args)
    {
        var work = args.Text("work");
        var checker = new Checker(work, args);
        return Task.FromResult(checker.Run());
    }

    private int Run()
    {
        var start = _events.First("soak-start") ?? throw new ArgumentException("events.tsv has no soak-start");
        var end = _events.First("soak-end") ?? throw new ArgumentException("events.tsv has no soak-end");
        _figures["soak_seconds"] = Math.Round((end - start) / (double)Second, 1);
        _figures["rate_per_second"] = _args.Optional("rate") is null ? null : _args.Number("rate", 0);

        CheckAnswers();
        var audit = AuditFile.Read(Path.Join(_work, "audit.jsonl"));
        CheckAudit(audit);
        CheckReloads(audit);
        CheckSignals(audit);
        CheckMemory(start, end);
        CheckCrash(audit);
        CheckLogs();
        CheckMetrics();

        var failed = _checks.Count(c => c.Judged && !c.Passed);
        Console.WriteLine();
        foreach (var check in _checks)
        {
            var mark = !check.Judged ? "info" : check.Passed ? "ok  " : "FAIL";
            Console.WriteLine($"{mark}  {check.Name,-28} {check.Detail}");
        }

        Console.WriteLine();
        Console.WriteLine(failed == 0 ? $"soak: all {_checks.Count(c => c.Judged)} checks passed" : $"soak: {failed} of {_checks.Count(c => c.Judged)} checks FAILED");

        var result = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["passed"] = failed == 0,
            ["checks"] = _checks.Select(c => new { name = c.Name, passed = c.Passed, judged = c.Judged, detail = c.Detail }).ToList(),
            ["figures"] = _figures,
        };
        if (_args.Optional("result") is { } path)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            File.WriteAllText(path, JsonSerializer.Serialize(result, Indented) + "\n");
            Console.WriteLine($"result written to {path}");
        }

        return failed == 0 ? 0 : 1;
    }

    // Every answer is the one its kind must get; no answer only while the gateway was down; no 5xx but the provoked ones.
    private void CheckAnswers()
    {
        var byKind = new SortedDictionary<string, SortedDictionary<string, long>>(StringComparer.Ordinal);
        var unexpected = new SortedDictionary<string, long>(StringComparer.Ordinal);
        long unanswered = 0, unansweredOutside = 0, fiveHundreds = 0, provoked = 0, traceMismatch = 0;
        foreach (var e in _exchanges)
        {
            var outcome = e.Status == 0 ? "no answer" : $"{e.Status} {e.Reason}".TrimEnd();
            if (!byKind.TryGetValue(e.Kind, out var outcomes))
            {
                byKind[e.Kind] = outcomes = new SortedDictionary<string, long>(StringComparer.Ordinal);
            }

            outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
            if (e.Status == 0)
            {
                unanswered++;
                if (!InCrashWindow(e.StartUs, e.EndUs))
                {
                    unansweredOutside++;
                    Count(unexpected, $"{e.Kind}: no answer outside the crash window ({e.Error})");
                }

                continue;
            }

            if (e.Status >= 500)
            {
                if (e.Kind == Kinds.Dead)
                {
                    provoked++;
                }
                else
                {
                    fiveHundreds++;
                }
            }

            if (Expected(e) is { } expected)
            {
                Count(unexpected, $"{e.Kind}: {outcome} where {expected} was due");
            }

            if (e.DecisionId.Length > 0 && e.Reason != "rate-limited" && e.AnsweredTraceId != e.TraceId)
            {
                traceMismatch++;
            }
        }

        _figures["requests"] = _exchanges.Count;
        var latencies = Latencies();
        _figures["latency_ms_by_kind"] = latencies;
        _figures["answers_by_kind"] = byKind;
        _figures["unanswered"] = unanswered;
        _figures["unexpected_answers"] = unexpected;
        _figures["provoked_5xx"] = provoked;
        _figures["unprovoked_5xx"] = fiveHundreds;

        var wrong = unexpected.Values.Sum();
        Add("answers as expected", wrong == 0,
            wrong == 0
                ? $"{_exchanges.Count:N0} requests, each answered as its kind must be" + (unanswered > 0 ? $" ({unanswered:N0} unanswered, all while the gateway was down)" : string.Empty)
                : $"{wrong:N0} of {_exchanges.Count:N0} not as expected: " + string.Join("; ", unexpected.Take(8).Select(p => $"{p.Key} x{p.Value}")));
        Add("no unprovoked 5xx", fiveHundreds == 0, $"{fiveHundreds:N0} unprovoked, {provoked:N0} provoked (dead upstream, 502/503 upstream-unavailable)");
        _checks.Add(new Verdict("latency (client side)", true,
            string.Join(", ", latencies.Select(p => $"{p.Key} {p.Value.P50}/{p.Value.P99} ms")) + " (p50/p99 during the soak)", Judged: false));
        Add("problem traceId = traceparent", traceMismatch == 0, $"{traceMismatch:N0} refusals whose problem+json traceId is not the trace the request carried");
        _ = unansweredOutside;
    }

    // Client-side latency of the answered requests during the soak (before the crash test), per kind.
    private SortedDictionary<string, Latency> Latencies()
    {
        var start = _events.First("soak-start")!.Value;
        var end = _events.First("soak-end")!.Value;
        var result = new SortedDictionary<string, Latency>(StringComparer.Ordinal);
        foreach (var kind in _exchanges.Where(e => e.Status != 0 && e.StartUs >= start && e.EndUs <= end).GroupBy(e => e.Kind))
        {
            var ms = kind.Select(e => (e.EndUs - e.StartUs) / 1000.0).Order().ToArray();
            double At(double q) => Math.Round(ms[Math.Min(ms.Length - 1, (int)(q * ms.Length))], 2);
            result[kind.Key] = new Latency(At(0.50), At(0.99), Math.Round(ms[^1], 2), ms.Length);
        }

        return result;
    }

    // Null when the answer is the one due, else what was due.
    private string? Expected(Exchange e)
    {
        var allowed = e is { Status: 200, Reason: "" };
        switch (e.Kind)
        {
            case Kinds.Allow or Kinds.Distinct:
                return allowed ? null : "200";
            case Kinds.Segment:
                return e is { Status: 403, Reason: "segment-not-allowed" } ? null : "403 segment-not-allowed";
            case Kinds.StepUp:
                return e is { Status: 401, Reason: "mfa-required" } ? null : "401 mfa-required";
            case Kinds.Missing:
                return e is { Status: 401, Reason: "token-missing" } ? null : "401 token-missing";
            case Kinds.Forged:
                return e is { Status: 401, Reason: "token-invalid" } or { Status: 429, Reason: "rate-limited" } ? null : "401 token-invalid or 429 rate-limited";
            case Kinds.Dead:
                return e is { Status: 502 or 503, Reason: "upstream-unavailable" } ? null : "502/503 upstream-unavailable";
            case Kinds.Revokee:
                var revoked = e is { Status: 401, Reason: "token-revoked" };
                var (posted, acknowledged) = _setTimes.TryGetValue(e.Token, out var times) ? times : (long.MaxValue, (long?)null);
                if (e.EndUs < posted)
                {
                    return allowed ? null : "200 (its SET was not sent yet)";
                }

                if (acknowledged is { } ack && e.StartUs > ack)
                {
                    return revoked ? null : "401 token-revoked (its SET was acknowledged)";
                }

                return allowed || revoked ? null : "200 or 401 token-revoked (sent while its SET was delivered)";
            default:
                return "a known kind";
        }
    }

    private bool InCrashWindow(long start, long end) =>
        Kill is { } kill && end >= kill && start <= (Ready ?? long.MaxValue) + 2 * Second;

    // Every answered decision has exactly one audit line with its status and reason; every line is a request's.
    private void CheckAudit(AuditFile audit)
    {
        long missing = 0, duplicated = 0, mismatched = 0, aggregatedAnswers = 0;
        var aggregated = new Dictionary<string, long>(StringComparer.Ordinal);
        var problems = new List<string>();
        var traces = new Dictionary<string, Exchange>(StringComparer.Ordinal);
        long reusedTraces = 0;
        foreach (var e in _exchanges)
        {
            if (!traces.TryAdd(e.TraceId, e))
            {
                reusedTraces++;
                Note(problems, $"the client sent trace {e.TraceId} twice");
            }
        }

        long answeredBeforeKill = 0, missingBeforeKill = 0;
        foreach (var e in _exchanges.Where(e => e.Status != 0))
        {
            var beforeKill = Kill is { } kill && e.EndUs < kill;
            answeredBeforeKill += beforeKill ? 1 : 0;
            List<DecisionLine>? lines;
            if (e.DecisionId.Length > 0)
            {
                audit.ByDecision.TryGetValue(e.DecisionId, out lines);
            }
            else
            {
                audit.ByTrace.TryGetValue(e.TraceId, out lines);
            }

            if (lines is null || lines.Count == 0)
            {
                missing++;
                missingBeforeKill += beforeKill ? 1 : 0;
                Note(problems, $"no audit line for {e.Kind} #{e.Sequence} ({e.Status} {e.Reason}, decision {e.DecisionId}, trace {e.TraceId})");
                continue;
            }

            if (lines.Count > 1)
            {
                duplicated++;
                Note(problems, $"{lines.Count} audit lines for decision {e.DecisionId} trace {e.TraceId}");
            }

            var line = lines[0];
            if (line.Count is not null)
            {
                aggregatedAnswers++;
                aggregated[line.DecisionId] = aggregated.GetValueOrDefault(line.DecisionId) + 1;
            }
            else if (line.TraceId != e.TraceId)
            {
                mismatched++;
                Note(problems, $"decision {e.DecisionId}: audit trace {line.TraceId}, request trace {e.TraceId}");
            }

            if (line.Status != e.Status || line.Reason != (e.Reason.Length > 0 ? e.Reason : "allowed"))
            {
                mismatched++;
                Note(problems, $"{e.Kind} #{e.Sequence}: answered {e.Status} {e.Reason}, audited {line.Status} {line.Reason}");
            }
        }

        // The other way round: a line stands for requests the client sent, once each.
        long unexplained = 0, lostButAudited = 0, countSurplus = 0, countShort = 0, countUnexplained = 0;
        var unanswered = _exchanges.Count(e => e.Status == 0);
        var unansweredBySource = _exchanges.Where(e => e.Status == 0).GroupBy(e => e.Source).ToDictionary(g => g.Key, g => (long)g.Count(), StringComparer.Ordinal);
        foreach (var line in audit.Decisions)
        {
            if (line.Count is { } count)
            {
                var answered = aggregated.GetValueOrDefault(line.DecisionId);
                if (answered > count)
                {
                    countShort += answered - count;
                    Note(problems, $"aggregated line {line.DecisionId} counts {count}, clients got {answered} answers with that decision id");
                }
                else if (count > answered)
                {
                    // Counted but never answered: only requests whose answer the kill cut off, from that source.
                    var surplus = count - answered;
                    countSurplus += surplus;
                    var nearKill = Kill is { } kill && line.TimeUs >= kill - 5 * Second && line.TimeUs <= kill;
                    var lostFromSource = unansweredBySource.GetValueOrDefault(line.SourceIp);
                    if (!nearKill || surplus > lostFromSource)
                    {
                        countUnexplained += surplus;
                        Note(problems, $"aggregated line {line.DecisionId} counts {count}, clients got {answered} answers with that decision id");
                    }
                }

                continue;
            }

            if (!traces.TryGetValue(line.TraceId, out var e))
            {
                unexplained++;
                Note(problems, $"audit line {line.DecisionId} (trace {line.TraceId}, {line.Status} {line.Reason}) is no request of the client's");
            }
            else if (e.Status == 0)
            {
                lostButAudited++;
            }
        }

        foreach (var (trace, lines) in audit.ByTrace)
        {
            if (lines.Count > 1 && traces.TryGetValue(trace, out var e) && e.Status == 0)
            {
                duplicated++;
                Note(problems, $"{lines.Count} audit lines for unanswered request trace {trace}");
            }
        }

        var unknownFindings = audit.FindingEvents.Count(id => !audit.ByDecision.ContainsKey(id));
        _figures["audit_lines"] = audit.Lines;
        _figures["audit_lines_by_class"] = audit.Classes.ToDictionary(p => p.Key.ToString(CultureInfo.InvariantCulture), p => p.Value);
        _figures["audit_decision_lines"] = audit.Decisions.Count;
        _figures["audit_aggregated_lines"] = audit.Decisions.Count(d => d.Count is not null);
        _figures["audit_aggregated_requests"] = audit.Decisions.Sum(d => d.Count ?? 0);
        _figures["answers_audited_missing"] = missing;
        _figures["answers_audited_twice"] = duplicated;
        _figures["audit_mismatches"] = mismatched;
        _figures["audit_unexplained_lines"] = unexplained;
        _figures["unanswered_but_audited"] = lostButAudited;
        _figures["answered_before_kill"] = answeredBeforeKill;

        var answeredCount = _exchanges.Count - unanswered;
        Add("every answer audited once", missing == 0 && duplicated == 0 && mismatched == 0 && reusedTraces == 0,
            $"{answeredCount:N0} answers: {missing:N0} without a line, {duplicated:N0} with more than one, {mismatched:N0} whose line says otherwise"
            + (aggregatedAnswers > 0 ? $"; {aggregatedAnswers:N0} of them under aggregated lines" : string.Empty));
        Add("no unexplained audit lines", unexplained == 0 && audit.Unreadable.Count == 0,
            $"{audit.Decisions.Count:N0} decision lines ({audit.Lines:N0} in all), {unexplained:N0} that no request of the client's explains, "
            + $"{audit.Unreadable.Count:N0} unreadable; {lostButAudited:N0} decided but their answer lost in the kill");
        Add("aggregated counts add up", countShort == 0 && countUnexplained == 0,
            audit.Decisions.Any(d => d.Count is not null)
                ? $"{audit.Decisions.Count(d => d.Count is not null):N0} lines with count stand for {audit.Decisions.Sum(d => d.Count ?? 0):N0} requests; {countShort:N0} answers beyond their counts, {countSurplus:N0} counted but not answered ({countUnexplained:N0} of them not cut off by the kill)"
                : "no line with a count (no aggregated rate-limited refusals in this build)");
        Add("findings name audited decisions", unknownFindings == 0, $"{audit.FindingEvents.Count:N0} detection findings, {unknownFindings:N0} naming a decision the audit lacks");
        if (Kill is not null)
        {
            Add("answered before kill audited", missingBeforeKill == 0, $"{answeredBeforeKill:N0} answers received before the SIGKILL, {missingBeforeKill:N0} without their audit line");
        }

        _figures["audit_problems"] = problems;
        foreach (var problem in problems.Take(10))
        {
            Console.WriteLine("  audit: " + problem);
        }
    }

    private void CheckReloads(AuditFile audit)
    {
        var edits = _events.All("reload").Count;
        var versions = audit.Decisions.Select(d => d.PolicyVersion).Distinct(StringComparer.Ordinal).Count();
        var log = Log("gateway.log");
        var loaded = log.Count(l => l.Contains("] Policy ", StringComparison.Ordinal) && l.Contains(" loaded with ", StringComparison.Ordinal));
        var rejected = log.Count(l => l.Contains("Policy reload", StringComparison.Ordinal));
        _figures["policy_edits"] = edits;
        _figures["policy_versions_audited"] = versions;
        _figures["policy_loads_logged"] = loaded;
        var reloadsAudited = audit.PolicyChanges.GetValueOrDefault("policy-reload");
        var refusalsAudited = audit.PolicyChanges.GetValueOrDefault("policy-refused");
        _figures["policy_reloads_audited"] = reloadsAudited;
        _figures["policy_refusals_audited"] = refusalsAudited;
        Add("policy reloads", loaded == edits + 1 && versions >= edits + 1 && rejected == 0 && reloadsAudited == edits && refusalsAudited == 0,
            $"{edits} edits, {loaded} loads logged (start + edits = {edits + 1}), {versions} policy versions in the audit, {rejected} rejected or failed reloads, " +
            $"{reloadsAudited} reloads and {refusalsAudited} refusals audited");
    }

    private void CheckSignals(AuditFile audit)
    {
        var acknowledged = _sets.Count(s => s.Status == 202);
        var failedOutside = _sets.Count(s => s.Status != 202 && !InCrashWindow(s.PostUs, s.EndUs));
        // Entity Management lines of continuous evaluation: the policy's own lines are counted by CheckReloads.
        var entityLines = audit.Classes.GetValueOrDefault(3004) - audit.PolicyChanges.Values.Sum();
        _figures["sets_acknowledged"] = acknowledged;
        _figures["set_attempts_failed"] = _sets.Count(s => s.Status != 202);
        _figures["entity_management_lines"] = entityLines;
        Add("SETs accepted", acknowledged > 0 && failedOutside == 0 && entityLines == acknowledged,
            $"{acknowledged} acknowledged 202, {failedOutside} refused or unanswered outside the crash window, {entityLines} Entity Management audit lines");
    }

    private void CheckMemory(long start, long end)
    {
        var samples = File.ReadLines(Path.Join(_work, "memory.tsv")).Skip(1).Where(l => l.Length > 0).Select(l =>
        {
            var f = l.Split('\t');
            return (Us: long.Parse(f[0], CultureInfo.InvariantCulture), Pid: int.Parse(f[1], CultureInfo.InvariantCulture),
                Kb: long.Parse(f[2], CultureInfo.InvariantCulture), Ticks: long.Parse(f[3], CultureInfo.InvariantCulture));
        }).ToList();
        var pid = (int)(_events.Value("gateway-start") ?? 0);
        var duration = TimeSpan.FromMicroseconds(end - start);
        // At 300 req/s the heaps take about five minutes to reach their working size (a 30-minute run climbs
        // from 166 to about 200 MiB by minute 6 and stays there): growth before that is not a leak.
        var warmup = _args.Duration("warmup", TimeSpan.FromTicks(Math.Min(TimeSpan.FromMinutes(5).Ticks, duration.Ticks / 2)));
        var window = TimeSpan.FromTicks(Math.Min(TimeSpan.FromSeconds(60).Ticks, (duration - warmup).Ticks / 3));
        var growthLimit = _args.Number("growth-pct", 15);
        var judgeFrom = _args.Duration("judge-memory-from", TimeSpan.FromMinutes(10));
        var soak = samples.Where(s => s.Pid == pid && s.Us >= start && s.Us <= end).ToList();
        var settled = soak.Where(s => s.Us >= start + (long)warmup.TotalMicroseconds).ToList();
        var firstEnd = start + (long)(warmup + window).TotalMicroseconds;
        var first = settled.Where(s => s.Us < firstEnd).ToList();
        var last = settled.Where(s => s.Us >= end - (long)window.TotalMicroseconds).ToList();
        if (first.Count == 0 || last.Count == 0)
        {
            Add("memory flat", false, $"too few samples ({soak.Count} during the soak of gateway pid {pid})");
            return;
        }

        static double Mib(double kb) => kb / 1024;
        var firstAvg = Mib(first.Average(s => s.Kb));
        var lastAvg = Mib(last.Average(s => s.Kb));
        var max = Mib(settled.Max(s => s.Kb));
        var growth = (lastAvg - firstAvg) / firstAvg * 100;

        // Least-squares slope after warm-up, in MiB per minute: growth that is steady shows here too.
        var t0 = settled[0].Us;
        var xs = settled.Select(s => (s.Us - t0) / 60e6).ToArray();
        var ys = settled.Select(s => Mib(s.Kb)).ToArray();
        var mx = xs.Average();
        var my = ys.Average();
        var den = xs.Sum(x => (x - mx) * (x - mx));
        var slope = den == 0 ? 0 : xs.Zip(ys).Sum(p => (p.First - mx) * (p.Second - my)) / den;

        var memory = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["samples"] = soak.Count,
            ["warmup_seconds"] = warmup.TotalSeconds,
            ["window_seconds"] = window.TotalSeconds,
            ["rss_mib_at_start"] = Math.Round(Mib(soak[0].Kb), 1),
            ["rss_mib_first_window_avg"] = Math.Round(firstAvg, 1),
            ["rss_mib_last_window_avg"] = Math.Round(lastAvg, 1),
            ["rss_mib_max_after_warmup"] = Math.Round(max, 1),
            ["rss_mib_max"] = Math.Round(Mib(soak.Max(s => s.Kb)), 1),
            ["growth_percent"] = Math.Round(growth, 1),
            ["slope_mib_per_minute"] = Math.Round(slope, 2),
            ["growth_limit_percent"] = growthLimit,
            ["rss_mib_by_minute"] = soak.GroupBy(s => (s.Us - start) / (60 * Second)).OrderBy(g => g.Key).Select(g => Math.Round(Mib(g.Average(s => s.Kb)), 1)).ToList(),
        };
        _figures["memory"] = memory;

        // CPU the gateway used during the soak, in cores (1.0 = one core busy all the time), and per request.
        var ticksPerSecond = _args.Number("clock-ticks", 100);
        var cpuSeconds = (soak[^1].Ticks - soak[0].Ticks) / ticksPerSecond;
        var wall = (soak[^1].Us - soak[0].Us) / (double)Second;
        var requests = _exchanges.Count(e => e.StartUs >= soak[0].Us && e.EndUs <= soak[^1].Us);
        _figures["gateway_cpu_cores"] = wall > 0 ? Math.Round(cpuSeconds / wall, 3) : null;
        _figures["gateway_cpu_us_per_request"] = requests > 0 ? Math.Round(cpuSeconds * 1e6 / requests, 1) : null;
        var judged = duration >= judgeFrom;
        var cores = _figures["gateway_cpu_cores"];
        _checks.Add(new Verdict("memory flat", growth <= growthLimit,
            $"VmRSS after {warmup.TotalSeconds:0} s warm-up: first {window.TotalSeconds:0} s avg {firstAvg:0.0} MiB, last {window.TotalSeconds:0} s avg {lastAvg:0.0} MiB ({growth:+0.0;-0.0} %, limit +{growthLimit} %), "
            + $"max {max:0.0} MiB, slope {slope:+0.00;-0.00} MiB/min, {soak.Count} samples; gateway CPU {cores} cores"
            + (judged ? string.Empty : $" (not judged: soaks shorter than {judgeFrom.TotalMinutes:0} min are too short)"),
            judged));
    }

    private void CheckCrash(AuditFile audit)
    {
        if (Kill is not { } kill)
        {
            _checks.Add(new Verdict("crash and restart", true, "not run (CRASH=0)", Judged: false));
            return;
        }

        var ready = Ready;
        Add("restart ready", ready is not null,
            ready is { } r ? $"/readyz ready {(r - kill) / (double)Second:0.0} s after the SIGKILL" : "the restarted gateway never reported ready");

        // The journal: every line replayed, none skipped.
        var restartLog = Log("gateway-restart.log");
        var lines = _events.Value("journal-lines");
        var replay = restartLog.Select(l => ReplayedLine().Match(l)).FirstOrDefault(m => m.Success);
        var skipped = restartLog.Count(l => l.Contains("is unreadable and was skipped", StringComparison.Ordinal));
        var records = replay is null ? -1 : long.Parse(replay.Groups["records"].Value, CultureInfo.InvariantCulture);
        _figures["journal_lines_at_kill"] = lines;
        _figures["journal_records_replayed"] = records;
        Add("journal replays cleanly", replay is not null && records == lines && skipped == 0,
            replay is null
                ? "the restarted gateway logged no replay of its state file"
                : $"{records} records replayed of {lines} lines in ztgw-state.jsonl, {skipped} skipped; {replay.Groups["revoked"].Value} subjects revoked");

        // Revocations made before the kill, tried after the restart.
        var revokedBefore = _setTimes.Where(p => p.Value.Acknowledged is { } a && a < kill).Select(p => p.Key).ToHashSet();
        var lastBefore = revokedBefore.Count == 0 ? -1 : revokedBefore.Max();
        var tried = _exchanges.Where(e => e.Kind == Kinds.Revokee && ready is { } r && e.StartUs > r && revokedBefore.Contains(e.Token) && e.Status != 0).ToList();
        var refused = tried.Count(e => e is { Status: 401, Reason: "token-revoked" });
        var lastTried = tried.Where(e => e.Token == lastBefore).ToList();
        var lastAck = lastBefore < 0 ? 0 : _setTimes[lastBefore].Acknowledged!.Value;
        _figures["revoked_tokens_tried_after_restart"] = tried.Count;
        _figures["last_revocation_before_kill_ms"] = lastBefore < 0 ? null : (kill - lastAck) / 1000;
        Add("revocation survives restart", tried.Count > 0 && refused == tried.Count && lastTried.Count > 0 && lastTried.All(e => e.Reason == "token-revoked"),
            $"{tried.Count} requests after the restart with tokens revoked before the kill, {refused} refused token-revoked; "
            + $"the last revocation ({(kill - lastAck) / 1000} ms before the kill) tried {lastTried.Count} times");
        _ = audit;
    }

    private void CheckLogs()
    {
        var serious = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var name in new[] { "gateway.log", "gateway-restart.log" })
        {
            foreach (var line in Log(name))
            {
                var m = LevelLine().Match(line);
                if (m.Success)
                {
                    Count(serious, $"{m.Groups["level"].Value}: {m.Groups["category"].Value}");
                }
            }
        }

        var exit = _events.Value("gateway-exit");
        _figures["gateway_log_errors"] = serious;
        _figures["gateway_exit_code"] = exit;
        Add("no errors logged", serious.Count == 0,
            serious.Count == 0 ? "no fail or crit line in the gateway logs" : string.Join("; ", serious.Select(p => $"{p.Key} x{p.Value}")));
        Add("clean shutdown", exit == 0, $"ztgw run exited {exit?.ToString(CultureInfo.InvariantCulture) ?? "?"} on SIGTERM at the end");
    }

    private void CheckMetrics()
    {
        var path = Path.Join(_work, "metrics.txt");
        if (!File.Exists(path))
        {
            Add("no audit failures", false, "metrics.txt was not scraped");
            return;
        }

        var failures = File.ReadLines(path).Where(l => l.StartsWith("ztgw_audit_failures_total", StringComparison.Ordinal))
            .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));
        _figures["audit_failures_metric"] = failures;
        Add("no audit failures", failures == 0, $"ztgw_audit_failures_total {failures} at the end of the soak");
    }

    private List<string> Log(string name)
    {
        var path = Path.Join(_work, name);
        return File.Exists(path) ? [.. File.ReadLines(path)] : [];
    }

    private void Add(string name, bool passed, string detail) => _checks.Add(new Verdict(name, passed, detail));

    private static void Count(SortedDictionary<string, long> tally, string key) => tally[key] = tally.TryGetValue(key, out var n) ? n + 1 : 1;

    private static void Note(List<string> problems, string problem)
    {
        if (problems.Count < 200)
        {
            problems.Add(problem);
        }
    }

    [GeneratedRegex(@"State file (?<path>.+): (?<records>\d+) records replayed; (?<revoked>\d+) subjects revoked")]
    private static partial Regex ReplayedLine();

    [GeneratedRegex(@"^\d\d:\d\d:\d\d (?<level>fail|crit): (?<category>[^\[]+\[\d+\])")]
    private static partial Regex LevelLine();

    private sealed record Latency(double P50, double P99, double Max, int N);

    private sealed record Verdict(string Name, bool Passed, string Detail, bool Judged = true);
}

/// <summary>What the script stamped in <c>events.tsv</c>: <c>name, unix_us, value</c> per line.</summary>
internal sealed class Events
{
    private readonly List<(string Name, long Us, long? Value)> _events = [];

    public static Events Read(string path)
    {
        var events = new Events();
        foreach (var line in File.ReadLines(path).Where(l => l.Length > 0))
        {
            var f = line.Split('\t');
            events._events.Add((f[0], long.Parse(f[1], CultureInfo.InvariantCulture),
                f.Length > 2 && f[2].Length > 0 ? long.Parse(f[2], CultureInfo.InvariantCulture) : null));
        }

        return events;
    }

    public long? First(string name) => _events.FirstOrDefault(e => e.Name == name) is { Name: not null } e ? e.Us : null;

    public long? Value(string name) => _events.FirstOrDefault(e => e.Name == name).Value;

    public List<long> All(string name) => [.. _events.Where(e => e.Name == name).Select(e => e.Us)];
}
