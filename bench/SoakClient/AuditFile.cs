using System.Text.Json;

namespace SoakClient;

/// <summary>
/// The gateway's audit file read back: HTTP Activity lines (class 4002, one per decision) indexed by decision id
/// (<c>metadata.uid</c>) and trace id (<c>trace.uid</c>), and the other classes counted. A line with a
/// <c>count</c> field stands for that many requests refused under one decision id (aggregated rate-limited
/// refusals); any other line stands for one request. Entity Management lines (class 3004) about the policy itself
/// (<c>unmapped.ztgw.change</c> <c>policy-start</c>, <c>policy-reload</c>, <c>policy-refused</c>) are counted apart.
/// </summary>
internal sealed class AuditFile
{
    public Dictionary<string, List<DecisionLine>> ByDecision { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, List<DecisionLine>> ByTrace { get; } = new(StringComparer.Ordinal);

    public List<DecisionLine> Decisions { get; } = [];

    /// <summary>Lines per <c>class_uid</c>.</summary>
    public SortedDictionary<int, int> Classes { get; } = [];

    /// <summary>Policy-change lines (class 3004 with a <c>policy-*</c> change) per change, e.g. <c>policy-reload</c>.</summary>
    public SortedDictionary<string, int> PolicyChanges { get; } = new(StringComparer.Ordinal);

    /// <summary>Decision ids that Detection Finding lines (class 2004) name as their related event.</summary>
    public List<string> FindingEvents { get; } = [];

    /// <summary>Lines that are not a JSON object with a class_uid (1-based line numbers).</summary>
    public List<long> Unreadable { get; } = [];

    public long Lines { get; private set; }

    public static AuditFile Read(string path)
    {
        var audit = new AuditFile();
        using var reader = new StreamReader(path);
        while (reader.ReadLine() is { } line)
        {
            audit.Lines++;
            if (line.Length == 0)
            {
                audit.Unreadable.Add(audit.Lines);
                continue;
            }

            try
            {
                using var json = JsonDocument.Parse(line);
                audit.Add(json.RootElement);
            }
            catch (Exception ex) when (ex is JsonException or InvalidOperationException or KeyNotFoundException or FormatException)
            {
                audit.Unreadable.Add(audit.Lines);
            }
        }

        return audit;
    }

    private void Add(JsonElement root)
    {
        var classUid = root.GetProperty("class_uid").GetInt32();
        Classes[classUid] = Classes.GetValueOrDefault(classUid) + 1;
        if (classUid == 3004
            && root.GetProperty("unmapped").GetProperty("ztgw").GetProperty("change").GetString() is { } change
            && change.StartsWith("policy-", StringComparison.Ordinal))
        {
            PolicyChanges[change] = PolicyChanges.GetValueOrDefault(change) + 1;
            return;
        }

        if (classUid == 2004)
        {
            foreach (var related in root.GetProperty("finding_info").GetProperty("related_events").EnumerateArray())
            {
                FindingEvents.Add(related.GetProperty("uid").GetString()!);
            }
        }

        if (classUid != 4002)
        {
            return;
        }

        var ztgw = root.GetProperty("unmapped").GetProperty("ztgw");
        var line = new DecisionLine(
            root.GetProperty("metadata").GetProperty("uid").GetString()!,
            root.TryGetProperty("trace", out var trace) && trace.TryGetProperty("uid", out var traceUid) ? traceUid.GetString() ?? string.Empty : string.Empty,
            root.GetProperty("http_response").GetProperty("code").GetInt32(),
            ztgw.GetProperty("reason").GetString()!,
            root.TryGetProperty("count", out var count) ? count.GetInt64() : null,
            ztgw.GetProperty("policy_version").GetString()!,
            root.GetProperty("src_endpoint").TryGetProperty("ip", out var ip) ? ip.GetString() ?? string.Empty : string.Empty,
            root.GetProperty("time").GetInt64() * 1000);
        Decisions.Add(line);
        Append(ByDecision, line.DecisionId, line);
        if (line.Count is null)
        {
            Append(ByTrace, line.TraceId, line);
        }
    }

    private static void Append(Dictionary<string, List<DecisionLine>> index, string key, DecisionLine line)
    {
        if (!index.TryGetValue(key, out var list))
        {
            index[key] = list = new List<DecisionLine>(1);
        }

        list.Add(line);
    }
}

/// <summary>One HTTP Activity line: what the checker compares with what a client got.</summary>
internal sealed record DecisionLine(string DecisionId, string TraceId, int Status, string Reason, long? Count, string PolicyVersion, string SourceIp, long TimeUs);
