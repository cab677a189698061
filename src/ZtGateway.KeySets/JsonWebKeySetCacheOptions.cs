using Microsoft.IdentityModel.Tokens;

namespace ZtGateway.KeySets;

/// <summary>
/// How a <see cref="JsonWebKeySetCache"/> refreshes its key set, paces fetches and bounds each one. Every time
/// runs on <see cref="TimeProvider"/>.
/// </summary>
public sealed record JsonWebKeySetCacheOptions
{
    /// <summary>
    /// Age after which a good key set is fetched again, so a key the publisher withdrew stops verifying even if no
    /// unknown key id ever arrives. Defaults to 5 minutes.
    /// </summary>
    public TimeSpan RefreshInterval { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// When true, a caller that finds the held set older than <see cref="RefreshInterval"/> gets it at once and the
    /// refresh runs in the background; when false, the caller waits for the refresh (bounded by
    /// <see cref="FetchTimeout"/>). Before the first good set every caller waits. Defaults to false.
    /// </summary>
    public bool RefreshInBackground { get; init; }

    /// <summary>
    /// Least time between two fetches caused by unknown key ids, so tokens with made-up key ids cannot make the
    /// cache call the publisher more often. Defaults to 30 seconds.
    /// </summary>
    public TimeSpan UnknownKeyIdRefreshInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// After a failed fetch, no fetch of any cause starts before this has passed; the pause doubles with every
    /// further failure in a row, up to <see cref="MaxRetryAfterFailure"/>, and ends with the next good fetch.
    /// Defaults to 5 seconds.
    /// </summary>
    public TimeSpan RetryAfterFailure { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Longest pause after failed fetches in a row (see <see cref="RetryAfterFailure"/>). Defaults to 30 seconds.</summary>
    public TimeSpan MaxRetryAfterFailure { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Largest answer accepted, in bytes, counted while the body is read (a chunked answer without
    /// <c>Content-Length</c> is cut off as soon as it passes the limit). Defaults to 256 KiB.
    /// </summary>
    public long MaxResponseBytes { get; init; } = 256 * 1024;

    /// <summary>
    /// Refuse any key set address that is not <c>https</c> (nothing is sent). False allows plain <c>http</c> as
    /// well, for development and loopback publishers. Defaults to true.
    /// </summary>
    public bool RequireHttps { get; init; } = true;

    /// <summary>Budget of one fetch, retries and their delays included. Defaults to 10 seconds.</summary>
    public TimeSpan FetchTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long one attempt may take, the body included. Defaults to 5 seconds.</summary>
    public TimeSpan AttemptTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Attempts after the first one, made on transport errors and attempt timeouts (and on server errors when
    /// <see cref="RetryServerErrors"/> is set); 0 for none. Defaults to 2.
    /// </summary>
    public int MaxRetryAttempts { get; init; } = 2;

    /// <summary>Median delay before the first retry; later ones grow exponentially, with jitter. Defaults to 200 ms.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// Also retry answers 5xx, 408 and 429 within one fetch. When false, an answer of any status ends the fetch and
    /// <see cref="RetryAfterFailure"/> paces the next one. Defaults to false.
    /// </summary>
    public bool RetryServerErrors { get; init; }

    /// <summary>
    /// Which keys of a fetched set may be used, tested before IdentityModel's signing-key selection; a set with no
    /// key left is refused. Null (the default) keeps every signing key.
    /// </summary>
    public Func<JsonWebKey, bool>? KeyFilter { get; init; }

    /// <summary>The clock of refresh pacing, failure pauses, timeouts and retry delays. Defaults to <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Throws when a value cannot work.</summary>
    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(RefreshInterval, TimeSpan.Zero, nameof(RefreshInterval));
        ArgumentOutOfRangeException.ThrowIfLessThan(UnknownKeyIdRefreshInterval, TimeSpan.Zero, nameof(UnknownKeyIdRefreshInterval));
        ArgumentOutOfRangeException.ThrowIfLessThan(RetryAfterFailure, TimeSpan.Zero, nameof(RetryAfterFailure));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxRetryAfterFailure, RetryAfterFailure, nameof(MaxRetryAfterFailure));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(MaxResponseBytes, 0, nameof(MaxResponseBytes));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(AttemptTimeout, TimeSpan.Zero, nameof(AttemptTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThan(FetchTimeout, AttemptTimeout, nameof(FetchTimeout));
        ArgumentOutOfRangeException.ThrowIfNegative(MaxRetryAttempts, nameof(MaxRetryAttempts));
        ArgumentOutOfRangeException.ThrowIfLessThan(RetryDelay, TimeSpan.Zero, nameof(RetryDelay));
        ArgumentNullException.ThrowIfNull(TimeProvider, nameof(TimeProvider));
    }
}
