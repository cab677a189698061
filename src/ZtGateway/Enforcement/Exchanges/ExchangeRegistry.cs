using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.Http.Features;
using ZtGateway.Audit;
using ZtGateway.Enforcement.Model;
using ZtGateway.Policy.Engine;
using ZtGateway.Sources.Continuous;

namespace ZtGateway.Enforcement.Exchanges;

/// <summary>
/// The open exchanges of one gateway (every allowed, forwarded request while it runs: WebSockets, gRPC calls, event
/// streams, downloads, ordinary requests), so that a decision does not outlive its inputs. When continuous evaluation
/// changes (a revocation, a step-up demand, a quarantine, here or on another gateway), when the policy is reloaded,
/// and once a second (token expiry, grants that lapse, quarantines that end), each open exchange is decided again
/// with the checks a new request gets (<see cref="ContinuousEvaluation.Check"/>, then the engine on the stored
/// <see cref="RequestContext"/>), and one that would now be refused is ended, audited, logged and counted
/// (README.md beside this file).
/// </summary>
internal sealed partial class ExchangeRegistry : IDisposable
{
    /// <summary>The name of the meter of <c>ztgw.exchanges.*</c>.</summary>
    public const string MeterName = "ZtGateway.Exchanges";

    /// <summary>How often every open exchange is decided again, for what changes with time alone.</summary>
    public static readonly TimeSpan SweepInterval = TimeSpan.FromSeconds(1);

    /// <summary>How long an exchange may take to end at a frame or message boundary before its connection is cut.</summary>
    public static readonly TimeSpan BoundaryGrace = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long an ordinary request (neither WebSocket nor gRPC) runs before a review may cut it: one decided just before
    /// the change finishes as if it had finished just before it, and one still open after this is ended by the next
    /// review (the sweep at the latest), so a stream is still cut within <see cref="SweepInterval"/> plus this.
    /// </summary>
    public static readonly TimeSpan YoungRequest = TimeSpan.FromMilliseconds(500);

    private static readonly Meter Meter = new(MeterName);
    private static readonly Counter<long> EndedCount = Meter.CreateCounter<long>("ztgw.exchanges.ended", "{exchange}",
        "Open exchanges ended because their decision no longer held, by segment, kind and reason");
    private static readonly UpDownCounter<long> OpenCount = Meter.CreateUpDownCounter<long>("ztgw.exchanges.open", "{exchange}",
        "Allowed requests being forwarded now");

    private readonly GatewayStateHolder _state;
    private readonly ContinuousEvaluation _continuous;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Stripe[] _stripes;
    private readonly Lock _reviewing = new();
    private readonly List<OpenExchange> _batch = [];
    private readonly HashSet<string> _verifying = new(StringComparer.Ordinal);
    private readonly ITimer _sweep;
    private int _reviewQueued;
    private bool _disposed;

    public ExchangeRegistry(GatewayStateHolder state, ContinuousEvaluation continuous, TimeProvider timeProvider, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(continuous);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(logger);
        _state = state;
        _continuous = continuous;
        _time = timeProvider;
        _logger = logger;

        // A power of two at least the core count, so that requests on different cores rarely share a lock.
        var stripes = 4;
        while (stripes < Environment.ProcessorCount)
        {
            stripes *= 2;
        }

        _stripes = new Stripe[stripes];
        for (var i = 0; i < stripes; i++)
        {
            _stripes[i] = new Stripe();
        }

        _continuous.Changed += OnContinuousChanged;
        _sweep = timeProvider.CreateTimer(static s => ((ExchangeRegistry)s!).Review(), this, SweepInterval, SweepInterval);
    }

    /// <summary>Exchanges open now.</summary>
    public int Count
    {
        get
        {
            var count = 0;
            foreach (var stripe in _stripes)
            {
                count += Volatile.Read(ref stripe.Count);
            }

            return count;
        }
    }

    /// <summary>
    /// Registers an allowed request that is about to be forwarded, and installs what can end it (the WebSocket or gRPC
    /// guard). Dispose the result when the forwarding is over.
    /// </summary>
    public OpenExchange Open(HttpContext context, RequestContext request, Decision decision, DateTimeOffset? tokenExpires,
        DateTimeOffset? deviceExpires, string decisionId,
        string traceId, string policyVersion, string? pushedPosture = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        var exchange = new OpenExchange(this, context, KindOf(context), request, decision, tokenExpires, deviceExpires, decisionId, traceId,
            policyVersion,
            _time.GetUtcNow()) { PushedPosture = pushedPosture };
        exchange.InstallGuard();
        var index = Environment.CurrentManagedThreadId & (_stripes.Length - 1);
        var stripe = _stripes[index];
        lock (stripe.Lock)
        {
            exchange.Stripe = index;
            exchange.Next = stripe.Head;
            if (stripe.Head is not null)
            {
                stripe.Head.Previous = exchange;
            }

            stripe.Head = exchange;
            stripe.Count++;
        }

        OpenCount.Add(1);
        return exchange;
    }

    /// <summary>Decides every open exchange again soon, on a pool thread (a change of continuous evaluation or of the policy).</summary>
    public void RequestReview()
    {
        if (Interlocked.Exchange(ref _reviewQueued, 1) == 0)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static r => ((ExchangeRegistry)r!).QueuedReview(), this);
        }
    }

    /// <summary>
    /// Decides every open exchange again with the live policy and continuous evaluation, and ends those that would now be
    /// refused. Returns how many it ended.
    /// </summary>
    public int Review()
    {
        lock (_reviewing)
        {
            if (_disposed)
            {
                return 0;
            }

            Snapshot(_batch);
            var ended = 0;
            try
            {
                if (_batch.Count == 0)
                {
                    return 0;
                }

                var state = _state.Current;
                var now = _time.GetUtcNow();
                foreach (var exchange in _batch)
                {
                    if (exchange.Ended)
                    {
                        continue;
                    }

                    var decision = Redecide(exchange, state, now);
                    if (!decision.Allowed && !(exchange.Kind == ExchangeKind.Stream && now - exchange.Opened < YoungRequest))
                    {
                        End(exchange, decision, state, now);
                        ended++;
                    }
                }
            }
            catch (Exception ex) when (ex is ObjectDisposedException)
            {
                // The policy state was swapped out mid-review; the next review takes the new one.
            }
            finally
            {
                _batch.Clear();
            }

            return ended;
        }
    }

    /// <summary>
    /// The decision a new request would get now for what <paramref name="exchange"/> was decided on: the same continuous
    /// check and the same engine, with the token taken as expired once its <c>exp</c> is more than the clock skew past,
    /// and the device assertion as invalid once its own <c>exp</c> is (a new request carrying it would be refused so).
    /// </summary>
    internal Decision Redecide(OpenExchange exchange, GatewayState state, DateTimeOffset now)
    {
        var request = exchange.Request;
        var verdict = _continuous.Check(request.Principal, request.Device);
        var skew = state.Policy.Gateway.Identity.ClockSkew;
        var token = verdict.Revoked ? TokenStatus.Revoked
            : exchange.TokenExpires is { } expires && now > expires + skew ? TokenStatus.Expired
            : request.Token;
        var (deviceStatus, device, deviceExpires) = Posture(exchange, state, now);
        var deviceExpired = deviceExpires is { } until && now > until + skew;
        return state.Engine.Decide(request with
        {
            Token = token,
            DeviceStatus = deviceExpired ? DeviceStatus.Invalid : deviceStatus,
            Device = deviceExpired ? null : device,
            PrincipalQuarantined = verdict.PrincipalQuarantined,
            DeviceQuarantined = verdict.DeviceQuarantined,
            StepUpRequired = verdict.StepUpRequired,
        });
    }

    // The device facts a new request would bring now: those the exchange was decided on, except that a device named by its
    // certificate has the posture its bridge pushed last. A push not yet verified here changes nothing until it is (it is
    // verified off the review, which runs again then); a device whose push expired has none.
    private (DeviceStatus Status, DevicePosture? Device, DateTimeOffset? Expires) Posture(OpenExchange exchange, GatewayState state, DateTimeOffset now)
    {
        var request = exchange.Request;
        if (exchange.PushedPosture is not { } opened || request.Device is not { } device)
        {
            return (request.DeviceStatus, request.Device, exchange.DeviceExpires);
        }

        if (_continuous.Postures.Latest(device.DeviceId, now) is not { } latest)
        {
            return (DeviceStatus.Absent, null, null);
        }

        if (string.Equals(latest.Assertion, opened, StringComparison.Ordinal))
        {
            return (request.DeviceStatus, request.Device, exchange.DeviceExpires);
        }

        if (state.Posture.Remembered(latest.Assertion, request.Principal) is not { } current)
        {
            VerifyLater(state, latest.Assertion, request.Principal);
            return (request.DeviceStatus, request.Device, exchange.DeviceExpires);
        }

        return current.Device is { } named && !string.Equals(named.DeviceId, device.DeviceId, StringComparison.Ordinal)
            ? (DeviceStatus.Invalid, null, null)
            : (current.Status, current.Device, current.Expires);
    }

    private void VerifyLater(GatewayState state, string assertion, Principal? principal)
    {
        lock (_verifying)
        {
            if (!_verifying.Add(assertion))
            {
                return;
            }
        }

        _ = Task.Run(async () =>
        {
            var verified = false;
            try
            {
                await state.Posture.VerifyAsync(assertion, principal, CancellationToken.None);
                verified = true;
            }
            catch (Exception ex) when (ex is ObjectDisposedException or OperationCanceledException)
            {
                // The policy state was swapped out meanwhile; the next review verifies with the new one.
            }
            catch (Exception ex)
            {
                // Nothing is decided on the unverified push; the next review (at most a second away) tries again.
                Log.PushVerificationFailed(_logger, ex);
            }
            finally
            {
                lock (_verifying)
                {
                    _verifying.Remove(assertion);
                }
            }

            // Only a verdict now remembered is worth a review at once; after a failure the sweep's next review tries again.
            if (verified)
            {
                RequestReview();
            }
        });
    }

    internal void Remove(OpenExchange exchange)
    {
        var stripe = _stripes[exchange.Stripe];
        lock (stripe.Lock)
        {
            if (exchange.Previous is not null)
            {
                exchange.Previous.Next = exchange.Next;
            }
            else
            {
                stripe.Head = exchange.Next;
            }

            if (exchange.Next is not null)
            {
                exchange.Next.Previous = exchange.Previous;
            }

            exchange.Previous = null;
            exchange.Next = null;
            stripe.Count--;
        }

        OpenCount.Add(-1);
    }

    public void Dispose()
    {
        _continuous.Changed -= OnContinuousChanged;
        _sweep.Dispose();
        lock (_reviewing)
        {
            _disposed = true;
        }
    }

    private static ExchangeKind KindOf(HttpContext context)
    {
        var request = context.Request;
        if (GrpcDenialWriter.IsGrpc(request))
        {
            return ExchangeKind.Grpc;
        }

        if (context.Features.Get<IHttpExtendedConnectFeature>() is { IsExtendedConnect: true, Protocol: { } protocol }
            && protocol.Equals("websocket", StringComparison.OrdinalIgnoreCase))
        {
            return ExchangeKind.WebSocket;
        }

        return context.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true }
            && request.Headers.Upgrade.ToString().Equals("websocket", StringComparison.OrdinalIgnoreCase)
            ? ExchangeKind.WebSocket
            : ExchangeKind.Stream;
    }

    private void OnContinuousChanged(JournalRecord record) => RequestReview();

    private void QueuedReview()
    {
        // Cleared before the review starts, so a change that lands during it queues another one.
        Volatile.Write(ref _reviewQueued, 0);
        try
        {
            Review();
        }
        catch (Exception ex)
        {
            // A pool thread must not die of it; the next sweep reviews again.
            Log.ReviewFailed(_logger, ex);
        }
    }

    private void Snapshot(List<OpenExchange> into)
    {
        foreach (var stripe in _stripes)
        {
            lock (stripe.Lock)
            {
                for (var e = stripe.Head; e is not null; e = e.Next)
                {
                    into.Add(e);
                }
            }
        }
    }

    private void End(OpenExchange exchange, Decision decision, GatewayState state, DateTimeOffset now)
    {
        var reason = decision.Reason.ToCode();
        if (!exchange.TryEnd(reason))
        {
            return;
        }

        var openFor = now - exchange.Opened;
        var how = exchange.Kind switch
        {
            ExchangeKind.WebSocket => ExchangeEnding.Close,
            ExchangeKind.Grpc => ExchangeEnding.GrpcStatus,
            _ => ExchangeEnding.Abort,
        };
        try
        {
            state.Audit.RecordExchangeEnded(new ExchangeEndedEvent
            {
                Time = now,
                EndingId = DecisionIds.Next(now),
                DecisionId = exchange.DecisionId,
                TraceId = exchange.TraceId,
                Opened = exchange.Opened,
                Kind = KindName(exchange.Kind),
                Ending = how,
                Reason = decision.Reason,
                Decision = exchange.Decision,
                Method = exchange.Request.Method,
                Path = exchange.Request.Path,
                ClientAddress = exchange.Request.ClientAddress,
                Principal = exchange.Request.Principal,
                Device = exchange.Request.Device,
                PolicyVersion = state.Policy.Version,
                StatusCode = exchange.Context.Response.StatusCode,
            });
        }
        catch (ObjectDisposedException)
        {
            // The policy state was swapped out mid-write: the ending still happens.
        }

        EndedCount.Add(1, new TagList
        {
            { "ztgw.segment.dst", exchange.Decision.DestinationSegment },
            { "ztgw.exchange", KindName(exchange.Kind) },
            { "ztgw.reason", reason },
        });
        Log.Ended(_logger, exchange.DecisionId, KindName(exchange.Kind), exchange.Decision.DestinationSegment, reason, (long)openFor.TotalMilliseconds);
        _ = TerminateAsync(exchange, decision.Reason);
    }

    internal static string KindName(ExchangeKind kind) => kind switch
    {
        ExchangeKind.WebSocket => "websocket",
        ExchangeKind.Grpc => "grpc",
        _ => "stream",
    };

    private async Task TerminateAsync(OpenExchange exchange, ReasonCode reason)
    {
        try
        {
            Task ending;
            if (exchange.Kind == ExchangeKind.WebSocket && exchange.WebSocket is { } socket)
            {
                ending = socket.EndAsync(reason.ToCode());
            }
            else if (exchange.Kind == ExchangeKind.Grpc && exchange.Grpc is { } call && exchange.Context.Response.HasStarted)
            {
                ending = call.EndAsync(GrpcDenialWriter.StatusFor(ReasonStatus.For(reason)), reason.ToCode());
            }
            else
            {
                // Nothing of the exchange's own to close with (or not yet upgraded, or no answer yet): cut it.
                exchange.Abort();
                return;
            }

            if (await Task.WhenAny(ending, Task.Delay(BoundaryGrace, _time)).ConfigureAwait(false) != ending || ending.IsFaulted)
            {
                // A frame or message that does not end (a stalled upstream, a caller that reads nothing): cut it.
                Log.Cut(_logger, exchange.DecisionId, KindName(exchange.Kind));
                exchange.Abort();
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException or OperationCanceledException)
        {
            exchange.Abort();
        }
    }

    private sealed class Stripe
    {
        public readonly Lock Lock = new();
        public OpenExchange? Head;
        public int Count;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1010, Level = LogLevel.Information,
            Message = "Ended {Kind} exchange of decision {DecisionId} on segment {Segment}: {Reason} (open {OpenMilliseconds} ms)")]
        public static partial void Ended(ILogger logger, string decisionId, string kind, string segment, string reason, long openMilliseconds);

        [LoggerMessage(EventId = 1011, Level = LogLevel.Warning,
            Message = "The {Kind} exchange of decision {DecisionId} did not reach a frame boundary in time; its connection was cut")]
        public static partial void Cut(ILogger logger, string decisionId, string kind);

        [LoggerMessage(EventId = 1012, Level = LogLevel.Error, Message = "Reviewing the open exchanges failed; the next sweep tries again")]
        public static partial void ReviewFailed(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 1013, Level = LogLevel.Warning,
            Message = "A pushed device posture could not be verified for the open exchanges of its device; the next review tries again")]
        public static partial void PushVerificationFailed(ILogger logger, Exception exception);
    }
}
