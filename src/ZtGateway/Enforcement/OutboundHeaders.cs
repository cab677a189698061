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

    /// <summary>
    /// Takes the gateway's own cookies (sessions of every segment, the sign-in's correlation and nonce cookies) off the
    /// request sent upstream: a session is the gateway's credential, never the upstream's. Other cookies pass unchanged.
    /// </summary>
    public static ValueTask RemoveGatewayCookies(RequestTransformContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var headers = context.ProxyRequest.Headers;
        if (!headers.TryGetValues(HeaderNames.Cookie, out var values))
        {
            return ValueTask.CompletedTask;
        }

        var kept = new List<string>();
        var removed = false;
        foreach (var value in values)
        {
            foreach (var part in value.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                var equals = part.IndexOf('=', StringComparison.Ordinal);
                var name = (equals < 0 ? part : part[..equals]).Trim();
                if (SignIn.BrowserSignIn.IsGatewayCookie(name))
                {
                    removed = true;
                }
                else
                {
                    kept.Add(part);
                }
            }
        }

        if (removed)
        {
            headers.Remove(HeaderNames.Cookie);
            if (kept.Count > 0)
            {
                headers.TryAddWithoutValidation(HeaderNames.Cookie, string.Join("; ", kept));
            }
        }

        return ValueTask.CompletedTask;
    }
}
