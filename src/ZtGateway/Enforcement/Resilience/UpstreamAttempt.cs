namespace ZtGateway.Enforcement.Resilience;

/// <summary>What one forwarding attempt to one destination came to.</summary>
internal enum AttemptKind
{
    /// <summary>The destination answered (whatever its status code), or the failure came after the answer began.</summary>
    Answered,

    /// <summary>No connection could be made (refused, unreachable, name not resolved): nothing reached the destination.</summary>
    ConnectFailed,

    /// <summary>The destination went silent for longer than the timeout.</summary>
    TimedOut,

    /// <summary>Any other forwarding failure (the connection broke mid-request, a bad response).</summary>
    Failed,

    /// <summary>The destination's circuit is open: the attempt was not made.</summary>
    CircuitOpen,
}

/// <summary>The result of one attempt, and whether the request may go to another destination.</summary>
internal readonly record struct UpstreamAttempt(AttemptKind Kind, bool MayTryAnother)
{
    /// <summary>The <c>ztgw.upstream.error</c> tag of a failed attempt (the middleware adds <c>no-destination</c>).</summary>
    public string ErrorTag => Kind switch
    {
        AttemptKind.ConnectFailed => "connect",
        AttemptKind.TimedOut => "timeout",
        AttemptKind.CircuitOpen => "circuit-open",
        _ => "other",
    };
}
