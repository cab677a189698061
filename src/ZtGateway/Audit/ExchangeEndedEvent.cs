using System.Net;
using ZtGateway.Policy.Engine;

namespace ZtGateway.Audit;

/// <summary>How the gateway ended an open exchange.</summary>
internal enum ExchangeEnding
{
    /// <summary>A WebSocket close frame 1008 (policy violation) with the reason code.</summary>
    Close,

    /// <summary>gRPC trailers with <c>grpc-status</c> and the reason code in <c>grpc-message</c>.</summary>
    GrpcStatus,

    /// <summary>The connection (or HTTP/2 stream) was cut.</summary>
    Abort,
}

/// <summary>
/// An allowed exchange (a WebSocket, a gRPC call, an event stream, a download) that the gateway ended because the same
/// decision taken again refused it: its caller was revoked or quarantined, its token expired, its grant lapsed, or
/// the policy changed. The request fields are those of the original decision.
/// </summary>
internal sealed record ExchangeEndedEvent
{
    public required DateTimeOffset Time { get; init; }

    /// <summary>The id of this line (a UUIDv7, like a decision id).</summary>
    public required string EndingId { get; init; }

    /// <summary>The decision that allowed the exchange.</summary>
    public required string DecisionId { get; init; }

    public required string TraceId { get; init; }

    public required DateTimeOffset Opened { get; init; }

    /// <summary><c>websocket</c>, <c>grpc</c> or <c>stream</c>.</summary>
    public required string Kind { get; init; }

    public required ExchangeEnding Ending { get; init; }

    /// <summary>The reason of the decision that refused it now.</summary>
    public required ReasonCode Reason { get; init; }

    /// <summary>The original decision (route, rule, segments).</summary>
    public required Decision Decision { get; init; }

    public required string Method { get; init; }

    public required string Path { get; init; }

    /// <summary>The status the exchange was answered with (101 for an upgraded WebSocket, 200 for a gRPC call or a stream).</summary>
    public required int StatusCode { get; init; }

    public IPAddress? ClientAddress { get; init; }

    public Principal? Principal { get; init; }

    public DevicePosture? Device { get; init; }

    /// <summary>The policy version in force when it was ended.</summary>
    public required string PolicyVersion { get; init; }
}
