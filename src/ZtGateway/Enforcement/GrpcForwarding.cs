using System.Net;
using Yarp.ReverseProxy.Transforms;

namespace ZtGateway.Enforcement;

/// <summary>
/// gRPC needs HTTP/2 end to end (its status travels in trailers): a gRPC request goes to its upstream over HTTP/2
/// whatever the destination's scheme, as h2c with prior knowledge to an <c>http://</c> destination. Every other
/// request keeps the forwarder's default (HTTP/2 where TLS negotiates it, else HTTP/1.1).
/// </summary>
internal static class GrpcForwarding
{
    /// <summary>The request transform that asks for exactly HTTP/2 for a gRPC request.</summary>
    public static ValueTask OverHttp2(RequestTransformContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (GrpcDenialWriter.IsGrpc(context.HttpContext.Request))
        {
            context.ProxyRequest.Version = HttpVersion.Version20;
            context.ProxyRequest.VersionPolicy = HttpVersionPolicy.RequestVersionExact;
        }

        return ValueTask.CompletedTask;
    }
}
