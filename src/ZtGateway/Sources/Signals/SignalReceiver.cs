using System.Diagnostics.Metrics;
using System.Text;
using System.Text.Json;
using ZtGateway.Policy.Configuration;
using ZtGateway.Runtime;
using ZtGateway.Sources.Continuous;

namespace ZtGateway.Sources.Signals;

/// <summary>The answer to one push delivery.</summary>
/// <param name="Status">202 when accepted, 400 when refused (RFC 8935), 503 when the state file could not record it.</param>
/// <param name="Error">The RFC 8935 <c>err</c> code when refused.</param>
/// <param name="Description">Why, for the transmitter; never echoes the SET.</param>
internal sealed record SignalResult(int Status, string? Error, string? Description)
{
    public static readonly SignalResult Accepted = new(StatusCodes.Status202Accepted, null, null);

    public static SignalResult Refused(string error, string description) => new(StatusCodes.Status400BadRequest, error, description);
}

/// <summary>
/// The CAEP signal receiver: Security Event Tokens pushed (RFC 8935) to <c>POST /ssf/events</c> on the
/// management listener by the transmitters of <c>signals.transmitters</c>. A SET is verified
/// (<see cref="SecurityEventTokenVerifier"/>), its events parsed (<see cref="CaepEventParser"/>), its
/// <c>jti</c> claimed once, and its changes committed to continuous evaluation, which makes them effective
/// on the next request and durable across restarts. A SET that fails any check changes nothing.
/// </summary>
internal sealed partial class SignalReceiver : IDisposable
{
    public const string ContentType = "application/secevent+jwt";

    /// <summary>Largest accepted body; a SET is a few hundred bytes.</summary>
    public const int MaxBodyBytes = 64 * 1024;

    /// <summary>
    /// How old (by <c>iat</c>) a SET may be when it arrives, besides the clock skew. With <see cref="MaxClockSkew"/> it
    /// stays within <see cref="ContinuousEvaluation.ReplayRetention"/>, the time a <c>jti</c> is remembered, so a SET
    /// is never accepted once its id could have been forgotten.
    /// </summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromMinutes(5);

    /// <summary>The most clock skew tolerated for SETs, whatever <c>identity.clockSkew</c> says.</summary>
    public static readonly TimeSpan MaxClockSkew = TimeSpan.FromMinutes(5);

    private static readonly Meter Meter = new("ZtGateway");
    private static readonly Counter<long> Received = Meter.CreateCounter<long>("ztgw.signals.received", description: "Security Event Tokens received, by result");

    private readonly ILivePolicy _context;
    private readonly ContinuousEvaluation _continuous;
    private readonly TimeProvider _time;
    private readonly HttpMessageHandler? _backchannel;
    private readonly ILogger _logger;
    private readonly Lock _rebuild = new();
    private volatile SecurityEventTokenVerifier? _verifier;

    public SignalReceiver(ILivePolicy context, ContinuousEvaluation continuous, TimeProvider timeProvider,
        HttpMessageHandler? backchannel, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(continuous);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(logger);
        _context = context;
        _continuous = continuous;
        _time = timeProvider;
        _backchannel = backchannel;
        _logger = logger;
    }

    /// <summary>Handles one HTTP push delivery.</summary>
    public async Task HandleAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var request = context.Request;
        SignalResult result;
        if (request.ContentLength > MaxBodyBytes)
        {
            result = SignalResult.Refused(SetErrors.InvalidRequest, "the body is larger than a SET can be");
        }
        else
        {
            var body = await RequestBodies.ReadTextAsync(request.Body, MaxBodyBytes, context.RequestAborted);
            result = body is null
                ? SignalResult.Refused(SetErrors.InvalidRequest, "the body is larger than a SET can be")
                : await ReceiveAsync(request.ContentType, body, context.RequestAborted);
        }

        var response = context.Response;
        response.StatusCode = result.Status;
        response.Headers.CacheControl = "no-store";
        if (result.Status == StatusCodes.Status503ServiceUnavailable)
        {
            response.Headers.RetryAfter = "5";
        }

        if (result.Error is not null)
        {
            response.ContentType = "application/json";
            await response.WriteAsync(JsonSerializer.Serialize(new Dictionary<string, string>
            {
                ["err"] = result.Error,
                ["description"] = result.Description ?? string.Empty,
            }), context.RequestAborted);
        }
    }

    /// <summary>Verifies and applies one SET given its media type and body.</summary>
    public async Task<SignalResult> ReceiveAsync(string? contentType, string body, CancellationToken cancellationToken)
    {
        var result = await ProcessAsync(contentType, body, cancellationToken);
        Received.Add(1, new KeyValuePair<string, object?>("result", result.Error ?? (result.Status == StatusCodes.Status202Accepted ? "accepted" : "unavailable")));
        if (result.Error is not null)
        {
            Log.Refused(_logger, result.Error, result.Description ?? string.Empty);
        }

        return result;
    }

    public void Dispose() => _verifier?.Dispose();

    private async Task<SignalResult> ProcessAsync(string? contentType, string body, CancellationToken cancellationToken)
    {
        if (!RequestBodies.HasMediaType(contentType, ContentType))
        {
            return SignalResult.Refused(SetErrors.InvalidRequest, "the content type must be " + ContentType);
        }

        var verification = await Verifier().VerifyAsync(body.Trim(), cancellationToken);
        if (!verification.Succeeded)
        {
            return SignalResult.Refused(verification.Error!, verification.Description);
        }

        var token = verification.Token!;
        var (events, problem) = CaepEventParser.Parse(token, verification.IssuedAt);
        if (problem is not null)
        {
            return SignalResult.Refused(SetErrors.InvalidRequest, problem);
        }

        var issuer = verification.Transmitter!.Issuer;
        var now = _time.GetUtcNow();
        if (!await _continuous.TryClaimSignalAsync(issuer, token.Id, verification.IssuedAt, cancellationToken))
        {
            return SignalResult.Refused(SetErrors.InvalidRequest, "this SET (jti) was already received");
        }

        var records = events.Select(e => ToRecord(e, issuer, token.Id, verification.IssuedAt, now)).OfType<JournalRecord>().ToList();
        if (records.Count == 0)
        {
            records.Add(new JournalRecord
            {
                Type = JournalRecordTypes.Seen, Time = now, Actor = issuer, TokenId = token.Id, TokenIssuedAt = verification.IssuedAt,
            });
        }

        var persisted = true;
        foreach (var record in records)
        {
            persisted &= _continuous.Commit(record);
        }

        foreach (var signal in events)
        {
            Log.Applied(_logger, signal.Name, signal.Action.ToString(), signal.User?.Subject ?? signal.Device ?? "-", issuer, token.Id);
        }

        if (!persisted)
        {
            // In force now, but not durable: let the transmitter deliver it again once the disk is back.
            _continuous.Replay.Unclaim(issuer, token.Id);
            return new SignalResult(StatusCodes.Status503ServiceUnavailable, null, null);
        }

        return SignalResult.Accepted;
    }

    private static JournalRecord? ToRecord(SignalEvent signal, string issuer, string jti, DateTimeOffset issuedAt, DateTimeOffset now)
    {
        // An event time ahead of ours (a transmitter's fast clock) must not refuse logins made after it arrived.
        var at = signal.At > now ? now : signal.At;
        var record = new JournalRecord
        {
            Type = JournalRecordTypes.Seen,
            Time = now,
            At = at,
            Reason = signal.Name,
            Actor = issuer,
            TokenId = jti,
            TokenIssuedAt = issuedAt,
        };
        return signal.Action switch
        {
            SignalAction.Revoke => record with { Type = JournalRecordTypes.Revoke, Issuer = signal.User!.Value.Issuer, Subject = signal.User.Value.Subject },
            SignalAction.RevokeSession => record with
            {
                Type = JournalRecordTypes.RevokeSession, Issuer = signal.User!.Value.Issuer, Subject = signal.User.Value.Subject,
                Target = JournalRecordTypes.SessionTarget, Id = signal.Session,
            },
            SignalAction.StepUp => record with { Type = JournalRecordTypes.StepUp, Issuer = signal.User!.Value.Issuer, Subject = signal.User.Value.Subject },
            SignalAction.QuarantineDevice => record with
            {
                Type = JournalRecordTypes.Hold, Target = QuarantineTargets.Device, Id = signal.Device, Origin = QuarantineOrigins.Signal,
                Reason = signal.Name + ": not-compliant",
            },
            SignalAction.ReleaseDevice => record with
            {
                Type = JournalRecordTypes.Release, Target = QuarantineTargets.Device, Id = signal.Device, Origin = QuarantineOrigins.Signal,
                Reason = signal.Name + ": compliant",
            },
            _ => null,
        };
    }

    // The transmitters and keys follow the live policy; a reload is picked up by the next delivery.
    private SecurityEventTokenVerifier Verifier()
    {
        var gateway = _context.Gateway;
        var current = _verifier;
        if (current is not null && ReferenceEquals(current.Settings, gateway.Signals) && current.ClockSkew == Skew(gateway))
        {
            return current;
        }

        lock (_rebuild)
        {
            current = _verifier;
            if (current is not null && ReferenceEquals(current.Settings, gateway.Signals) && current.ClockSkew == Skew(gateway))
            {
                return current;
            }

            var next = new SecurityEventTokenVerifier(gateway.Signals, gateway.Identity.ClockSkew, _time, _backchannel, _logger);
            _verifier = next;
            if (current is not null)
            {
                _ = DisposeLaterAsync(current);
            }

            return next;
        }
    }

    private static TimeSpan Skew(GatewayConfig gateway) =>
        gateway.Identity.ClockSkew < MaxClockSkew ? gateway.Identity.ClockSkew : MaxClockSkew;

    private static async Task DisposeLaterAsync(SecurityEventTokenVerifier verifier)
    {
        // A delivery in flight may still be verifying with it.
        await Task.Delay(TimeSpan.FromSeconds(30));
        verifier.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 800, Level = LogLevel.Warning, Message = "Security event refused: {Error} ({Description})")]
        public static partial void Refused(ILogger logger, string error, string description);

        [LoggerMessage(EventId = 801, Level = LogLevel.Information,
            Message = "Security event {Event} ({Action}) for {Subject} from {Issuer}, jti {Jti}")]
        public static partial void Applied(ILogger logger, string @event, string action, string subject, string issuer, string jti);
    }
}
