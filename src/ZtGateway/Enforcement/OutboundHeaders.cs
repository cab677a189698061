using Microsoft.Net.Http.Headers;
using Yarp.ReverseProxy.Transforms;

namespace ZtGateway.Enforcement;

/// <summary>
/// Takes the caller's <c>Authorization</c> off the request sent upstream unless the decided service sets
/// <c>passAuthorization: true</c>. It is removed from the outgoing message, not from the inbound headers, so
/// Kestrel can reuse the header's string on the next request of the same connection instead of copying the
/// token again. A request without a decision (which never reaches here) would lose the header too.
/// </summary>
internal static class OutboundHeaders
{
    public static ValueTask RemoveAuthorization(RequestTransformContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.HttpContext.Features.Get<DecisionFeature>() is not { ForwardAuthorization: true })
        {
            context.ProxyRequest.Headers.Remove(HeaderNames.Authorization);
        }

        return ValueTask.CompletedTask;
    }
}
