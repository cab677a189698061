using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ZtGateway.Upstream.Validation;

namespace ZtGateway.Upstream.Authentication;

/// <summary>
/// Authenticates a request by the gateway assertion header. No header: no result, so the challenge
/// answers 401. An invalid assertion: failure, also 401. Why it was refused goes to the log only.
/// </summary>
internal sealed partial class ZtGatewayAssertionHandler : AuthenticationHandler<ZtGatewayAssertionSchemeOptions>
{
    private const string ProblemContentType = "application/problem+json";

    private static readonly byte[] UnauthenticatedBody =
        """{"title":"request did not come through the gateway","status":401}"""u8.ToArray();

    private readonly AssertionValidator _validator;

    public ZtGatewayAssertionHandler(
        IOptionsMonitor<ZtGatewayAssertionSchemeOptions> options,
        ILoggerFactory logger,
        UrlEncoder encoder,
        AssertionValidator validator)
        : base(options, logger, encoder)
    {
        ArgumentNullException.ThrowIfNull(validator);
        _validator = validator;
    }

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Request.Headers.TryGetValue(_validator.Header, out var values) || values.Count == 0)
        {
            return AuthenticateResult.NoResult();
        }

        // The gateway sends exactly one; several values mean something else added one.
        if (values.Count > 1 || string.IsNullOrWhiteSpace(values[0]))
        {
            Log.AssertionAmbiguous(Logger, _validator.Header, values.Count);
            return AuthenticateResult.Fail(AssertionFailure.Malformed.ToCode());
        }

        var result = await _validator.ValidateAsync(values[0]!, Context.RequestAborted);
        if (!result.Succeeded)
        {
            var code = result.Failure.GetValueOrDefault(AssertionFailure.Invalid).ToCode();
            Log.AssertionRejected(Logger, code, result.Detail ?? string.Empty);
            return AuthenticateResult.Fail(code);
        }

        var principal = new ClaimsPrincipal(result.Identity!);
        return AuthenticateResult.Success(new AuthenticationTicket(principal, Scheme.Name));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = ZtGatewayAssertionExtensions.SchemeName;
        Response.ContentType = ProblemContentType;
        Response.ContentLength = UnauthenticatedBody.Length;
        if (!HttpMethods.IsHead(Request.Method))
        {
            await Response.Body.WriteAsync(UnauthenticatedBody, Context.RequestAborted);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = UpstreamEventIds.AssertionRejected, Level = LogLevel.Information, Message = "Gateway assertion rejected: {Reason} ({Detail}).")]
        public static partial void AssertionRejected(ILogger logger, string reason, string detail);

        [LoggerMessage(EventId = UpstreamEventIds.AssertionAmbiguous, Level = LogLevel.Information, Message = "Gateway assertion rejected: header {Header} has {Count} values or is empty.")]
        public static partial void AssertionAmbiguous(ILogger logger, string header, int count);
    }
}
