using System.Globalization;
using System.Text;

namespace SoakClient;

/// <summary>
/// One request of the soak and what came back: a line of <c>responses.tsv</c>. Times are Unix microseconds of
/// the wall clock, the clock the script stamps its kill and restart with.
/// </summary>
internal sealed record Exchange
{
    public const string Header = "seq\tkind\tsource\ttoken\tstart_us\tend_us\tstatus\treason\tdecision_id\ttrace_id\tanswered_trace_id\terror";

    public required long Sequence { get; init; }

    /// <summary>One of <see cref="Kinds"/>.</summary>
    public required string Kind { get; init; }

    /// <summary>The client address the request was sent from.</summary>
    public required string Source { get; init; }

    /// <summary>For <see cref="Kinds.Revokee"/>: which of the revoked user's tokens was sent; -1 otherwise.</summary>
    public required int Token { get; init; }

    public required long StartUs { get; init; }

    public required long EndUs { get; init; }

    /// <summary>The HTTP status, or 0 when no answer came (connection refused or reset, timeout).</summary>
    public required int Status { get; init; }

    /// <summary>The problem+json <c>reason</c>; empty for an answer without one.</summary>
    public required string Reason { get; init; }

    /// <summary>The problem+json <c>decisionId</c>; empty for an answer without one.</summary>
    public required string DecisionId { get; init; }

    /// <summary>The trace id of the <c>traceparent</c> the request carried (unique per request).</summary>
    public required string TraceId { get; init; }

    /// <summary>The problem+json <c>traceId</c>; empty for an answer without one.</summary>
    public required string AnsweredTraceId { get; init; }

    /// <summary>Why no answer came, on one line; empty when one did.</summary>
    public required string Error { get; init; }

    public string Format()
    {
        var builder = new StringBuilder(256);
        builder.Append(Sequence.ToString(CultureInfo.InvariantCulture)).Append('\t')
            .Append(Kind).Append('\t')
            .Append(Source).Append('\t')
            .Append(Token.ToString(CultureInfo.InvariantCulture)).Append('\t')
            .Append(StartUs.ToString(CultureInfo.InvariantCulture)).Append('\t')
            .Append(EndUs.ToString(CultureInfo.InvariantCulture)).Append('\t')
            .Append(Status.ToString(CultureInfo.InvariantCulture)).Append('\t')
            .Append(Clean(Reason)).Append('\t')
            .Append(Clean(DecisionId)).Append('\t')
            .Append(TraceId).Append('\t')
            .Append(Clean(AnsweredTraceId)).Append('\t')
            .Append(Clean(Error));
        return builder.ToString();
    }

    public static Exchange Parse(string line)
    {
        var f = line.Split('\t');
        if (f.Length != 12)
        {
            throw new FormatException($"a responses.tsv line has 12 fields, not {f.Length}: {line}");
        }

        return new Exchange
        {
            Sequence = long.Parse(f[0], CultureInfo.InvariantCulture),
            Kind = f[1],
            Source = f[2],
            Token = int.Parse(f[3], CultureInfo.InvariantCulture),
            StartUs = long.Parse(f[4], CultureInfo.InvariantCulture),
            EndUs = long.Parse(f[5], CultureInfo.InvariantCulture),
            Status = int.Parse(f[6], CultureInfo.InvariantCulture),
            Reason = f[7],
            DecisionId = f[8],
            TraceId = f[9],
            AnsweredTraceId = f[10],
            Error = f[11],
        };
    }

    // The file is tab-separated, one request a line; nothing a server sends may break that.
    private static string Clean(string value) =>
        value.AsSpan().IndexOfAny('\t', '\n', '\r') < 0 ? value : value.Replace('\t', ' ').Replace('\n', ' ').Replace('\r', ' ');
}

/// <summary>One delivery attempt of a Security Event Token: a line of <c>sets.tsv</c>.</summary>
internal sealed record SetDelivery
{
    public const string Header = "token\tattempt\tpost_us\tend_us\tstatus\terror";

    /// <summary>The revoked user's token this SET revokes (every token of that user issued before it).</summary>
    public required int Token { get; init; }

    public required int Attempt { get; init; }

    public required long PostUs { get; init; }

    public required long EndUs { get; init; }

    /// <summary>202 when accepted; 0 when no answer came.</summary>
    public required int Status { get; init; }

    public required string Error { get; init; }

    public string Format() => string.Join('\t',
        Token.ToString(CultureInfo.InvariantCulture), Attempt.ToString(CultureInfo.InvariantCulture),
        PostUs.ToString(CultureInfo.InvariantCulture), EndUs.ToString(CultureInfo.InvariantCulture),
        Status.ToString(CultureInfo.InvariantCulture), Error.Replace('\t', ' ').Replace('\n', ' ').Replace('\r', ' '));

    public static SetDelivery Parse(string line)
    {
        var f = line.Split('\t');
        if (f.Length != 6)
        {
            throw new FormatException($"a sets.tsv line has 6 fields, not {f.Length}: {line}");
        }

        return new SetDelivery
        {
            Token = int.Parse(f[0], CultureInfo.InvariantCulture),
            Attempt = int.Parse(f[1], CultureInfo.InvariantCulture),
            PostUs = long.Parse(f[2], CultureInfo.InvariantCulture),
            EndUs = long.Parse(f[3], CultureInfo.InvariantCulture),
            Status = int.Parse(f[4], CultureInfo.InvariantCulture),
            Error = f[5],
        };
    }
}

/// <summary>The kinds of request the soak mixes, and what the gateway must answer each.</summary>
internal static class Kinds
{
    /// <summary>A finance user with MFA on a compliant finance device, the same token every time: 200.</summary>
    public const string Allow = "allow";

    /// <summary>The same user with one of many distinct tokens (each verified cold once): 200.</summary>
    public const string Distinct = "distinct";

    /// <summary>The finance user on the hr listener: 403 <c>segment-not-allowed</c>.</summary>
    public const string Segment = "segment";

    /// <summary>A token without MFA: 401 <c>mfa-required</c>.</summary>
    public const string StepUp = "stepup";

    /// <summary>No token at all: 401 <c>token-missing</c>.</summary>
    public const string Missing = "missing";

    /// <summary>A token with a bad signature from the one flooding source: 401 <c>token-invalid</c> or 429 <c>rate-limited</c>.</summary>
    public const string Forged = "forged";

    /// <summary>The user whose sessions the SETs revoke: 200 before its token's SET, 401 <c>token-revoked</c> after.</summary>
    public const string Revokee = "revokee";

    /// <summary>An allowed request to a service whose only destination is a closed port: 502 or 503 <c>upstream-unavailable</c>.</summary>
    public const string Dead = "dead";
}
