using System.Globalization;
using ZtGateway.Policy.Engine;

namespace ZtGateway.Enforcement;

/// <summary>
/// A refusal in the form a gRPC caller understands (docs/design.md section 5): HTTP 200, <c>content-type:
/// application/grpc</c>, and a trailers-only response whose <c>grpc-status</c> follows the reason's HTTP status
/// (<see cref="StatusFor"/>) and whose <c>grpc-message</c> is the reason code. The decision id and trace id go in
/// <c>ztgw-decision-id</c> and <c>ztgw-trace-id</c>, as problem+json carries them.
/// </summary>
internal static class GrpcDenialWriter
{
    public const string ContentType = "application/grpc";
    public const string StatusHeader = "grpc-status";
    public const string MessageHeader = "grpc-message";

    /// <summary>gRPC status codes the gateway answers with.</summary>
    public const int InvalidArgument = 3;
    public const int PermissionDenied = 7;
    public const int ResourceExhausted = 8;
    public const int Unimplemented = 12;
    public const int Unavailable = 14;
    public const int Unauthenticated = 16;

    /// <summary>True for a gRPC request: <c>content-type</c> <c>application/grpc</c> or <c>application/grpc+FORMAT</c>.</summary>
    public static bool IsGrpc(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var contentType = request.ContentType;
        if (contentType is null || !contentType.StartsWith(ContentType, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        // application/grpc-web is another framing (trailers in the body) and is not answered this way.
        return contentType.Length == ContentType.Length || contentType[ContentType.Length] is '+' or ';';
    }

    /// <summary>
    /// The gRPC status of a refusal answered with <paramref name="httpStatus"/>: 401 is UNAUTHENTICATED (16), 403
    /// PERMISSION_DENIED (7), 404 UNIMPLEMENTED (12), 400 INVALID_ARGUMENT (3), 429 RESOURCE_EXHAUSTED (8), and every
    /// 5xx (upstream failures, internal errors) UNAVAILABLE (14).
    /// </summary>
    public static int StatusFor(int httpStatus) => httpStatus switch
    {
        StatusCodes.Status401Unauthorized => Unauthenticated,
        StatusCodes.Status403Forbidden => PermissionDenied,
        StatusCodes.Status404NotFound => Unimplemented,
        StatusCodes.Status400BadRequest => InvalidArgument,
        StatusCodes.Status429TooManyRequests => ResourceExhausted,
        _ => Unavailable,
    };

    /// <summary>Writes the trailers-only refusal; nothing else is written to the body.</summary>
    public static Task WriteAsync(HttpContext context, ReasonCode reason, string decisionId, string traceId, int httpStatus)
    {
        ArgumentNullException.ThrowIfNull(context);
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = ContentType;
        response.Headers.CacheControl = "no-store";

        // With no body, the status goes in the headers: the one HEADERS frame, sent with END_STREAM, is the whole answer.
        response.Headers[StatusHeader] = StatusFor(httpStatus).ToString(CultureInfo.InvariantCulture);
        response.Headers[MessageHeader] = reason.ToCode();
        response.Headers["ztgw-decision-id"] = decisionId;
        response.Headers["ztgw-trace-id"] = traceId;
        return response.CompleteAsync();
    }
}
