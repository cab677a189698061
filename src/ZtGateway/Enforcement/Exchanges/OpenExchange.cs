using Microsoft.AspNetCore.Http.Features;
using ZtGateway.Policy.Engine;

namespace ZtGateway.Enforcement.Exchanges;

/// <summary>How an open exchange is ended when its decision no longer holds.</summary>
internal enum ExchangeKind
{
    /// <summary>Any other request (a server-sent event stream, a download, a slow answer): the connection is cut.</summary>
    Stream,

    /// <summary>A WebSocket (HTTP/1.1 upgrade or HTTP/2 extended CONNECT): a close frame 1008 at a frame boundary.</summary>
    WebSocket,

    /// <summary>A gRPC call: trailers with <c>grpc-status</c> at a message boundary, then the upstream call is cancelled.</summary>
    Grpc,
}

/// <summary>
/// One allowed, forwarded request while it is open, with what its decision was taken on, so that the decision can be
/// taken again when one of its inputs changes. Created by <see cref="ExchangeRegistry.Open"/> before the request is
/// forwarded and disposed when the forwarding is over (which takes it out of the registry).
/// </summary>
internal sealed class OpenExchange : IDisposable
{
    private readonly ExchangeRegistry _registry;
    private readonly Lock _lifetime = new();
    private int _ended;
    private bool _done;
    private string? _endReason;

    // Links of the registry stripe this exchange is in, guarded by that stripe's lock.
    internal OpenExchange? Previous;
    internal OpenExchange? Next;
    internal int Stripe = -1;

    internal OpenExchange(ExchangeRegistry registry, HttpContext context, ExchangeKind kind, RequestContext request, Decision decision,
        DateTimeOffset? tokenExpires, DateTimeOffset? deviceExpires, string decisionId, string traceId, string policyVersion, DateTimeOffset opened)
    {
        _registry = registry;
        Context = context;
        Kind = kind;
        Request = request;
        Decision = decision;
        TokenExpires = tokenExpires;
        DeviceExpires = deviceExpires;
        DecisionId = decisionId;
        TraceId = traceId;
        PolicyVersion = policyVersion;
        Opened = opened;
    }

    public HttpContext Context { get; }

    public ExchangeKind Kind { get; }

    /// <summary>What the decision was taken on; a review takes it again on this with fresh continuous facts.</summary>
    public RequestContext Request { get; }

    public Decision Decision { get; }

    /// <summary>The verified <c>exp</c> of the caller's token.</summary>
    public DateTimeOffset? TokenExpires { get; }

    /// <summary>The verified <c>exp</c> of the caller's device-posture assertion.</summary>
    public DateTimeOffset? DeviceExpires { get; }

    /// <summary>
    /// The pushed assertion the device's posture was taken from when a device certificate named the device (null for a
    /// posture header): a review takes the device's latest push instead.
    /// </summary>
    public string? PushedPosture { get; init; }

    public string DecisionId { get; }

    public string TraceId { get; }

    public string PolicyVersion { get; }

    public DateTimeOffset Opened { get; }

    /// <summary>The caller's side of an upgraded WebSocket, once the upstream accepted it.</summary>
    public WebSocketGuardStream? WebSocket { get; private set; }

    /// <summary>The response body of a gRPC call.</summary>
    public GrpcResponseGuard? Grpc { get; internal set; }

    public bool Ended => Volatile.Read(ref _ended) != 0;

    /// <summary>Wraps the caller's side of the upgraded connection (called by the upgrade guards).</summary>
    internal Stream Guard(Stream client)
    {
        var guarded = new WebSocketGuardStream(client);
        WebSocket = guarded;
        if (Ended)
        {
            // Ended between the decision and the upgrade: the close frame goes first.
            _ = guarded.EndAsync(_endReason ?? ReasonCode.TokenRevoked.ToCode());
        }

        return guarded;
    }

    /// <summary>True for the one caller that ends this exchange.</summary>
    internal bool TryEnd(string reason)
    {
        _endReason = reason;
        return Interlocked.Exchange(ref _ended, 1) == 0;
    }

    /// <summary>Cuts the caller's connection (or HTTP/2 stream), unless the request is already over.</summary>
    internal void Abort()
    {
        // Under the lock that Dispose takes: once the request is over its HttpContext may serve another request.
        lock (_lifetime)
        {
            if (!_done)
            {
                Context.Abort();
            }
        }
    }

    /// <summary>True while the forwarding is still running.</summary>
    internal bool IsOpen
    {
        get
        {
            lock (_lifetime)
            {
                return !_done;
            }
        }
    }

    public void Dispose()
    {
        lock (_lifetime)
        {
            if (_done)
            {
                return;
            }

            _done = true;
        }

        _registry.Remove(this);
    }

    /// <summary>Installs the guard that can end this exchange in the request's features, before the forwarder runs.</summary>
    internal void InstallGuard()
    {
        var features = Context.Features;
        switch (Kind)
        {
            case ExchangeKind.WebSocket:
                if (features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true } upgrade)
                {
                    features.Set<IHttpUpgradeFeature>(new WebSocketUpgradeGuard(upgrade, this));
                }

                if (features.Get<IHttpExtendedConnectFeature>() is { IsExtendedConnect: true } connect)
                {
                    features.Set<IHttpExtendedConnectFeature>(new ExtendedConnectGuard(connect, this));
                }

                break;
            case ExchangeKind.Grpc:
                if (features.Get<IHttpResponseBodyFeature>() is { } body)
                {
                    var guard = new GrpcResponseGuard(body, Context);
                    features.Set<IHttpResponseBodyFeature>(guard);
                    Grpc = guard;
                }

                break;
        }
    }
}
