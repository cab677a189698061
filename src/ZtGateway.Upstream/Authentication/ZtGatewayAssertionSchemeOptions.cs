using Microsoft.AspNetCore.Authentication;

namespace ZtGateway.Upstream.Authentication;

/// <summary>
/// Scheme options of the assertion handler. Settings live in <see cref="ZtGatewayAssertionOptions"/>,
/// which is shared with the key source; this type exists because the handler base class requires one.
/// </summary>
internal sealed class ZtGatewayAssertionSchemeOptions : AuthenticationSchemeOptions
{
}
