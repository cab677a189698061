using System.Net;

namespace ZtGateway.Audit;

/// <summary>
/// The requests of one source that one segment answered 429 <c>rate-limited</c> within one second, recorded as a
/// single aggregated HTTP Activity line: the same decision id was given to every one of them.
/// </summary>
internal sealed record RateLimitedEvent
{
    /// <summary>The window's decision id, sent in the <c>decisionId</c> of each of its answers.</summary>
    public required string DecisionId { get; init; }

    /// <summary>When the first request of the window arrived.</summary>
    public required DateTimeOffset Start { get; init; }

    /// <summary>When the last request of the window arrived.</summary>
    public required DateTimeOffset End { get; init; }

    /// <summary>How many requests were answered 429 in the window; at least one.</summary>
    public required int Count { get; init; }

    /// <summary>The segment whose listener answered.</summary>
    public required string Segment { get; init; }

    /// <summary>The address of the window's first request; null when the client address could not be told.</summary>
    public IPAddress? ClientAddress { get; init; }

    /// <summary>The source the allowance is kept for: an IPv4 address, an IPv6 /64, or <c>unknown</c>.</summary>
    public required string Source { get; init; }

    /// <summary>The method of every request of the window; null when they differed.</summary>
    public string? Method { get; init; }

    /// <summary>The path of every request of the window; null when they differed.</summary>
    public string? Path { get; init; }

    public required string PolicyVersion { get; init; }
}
