using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using ZtGateway.Enforcement.Model;
using ZtGateway.Policy.Engine;
using ZtGateway.Sources.Continuous;

namespace ZtGateway.Management;

/// <summary>
/// OpenID Connect Back-Channel Logout 1.0: the provider of <c>signIn</c> posts a logout token when a person's session
/// there ends, and the browser sessions made from it end on their next request at every gateway that shares the state.
/// The logout token is verified like any token of that issuer (signature, <c>iss</c>, lifetime), with the sign-in
/// client as its audience, then checked as section 2.6 asks: <c>events</c> names back-channel logout, a <c>sub</c> or a
/// <c>sid</c>, no <c>nonce</c>, a <c>jti</c> never seen before and a recent <c>iat</c>.
/// </summary>
internal static partial class BackChannelLogoutEndpoints
{
    public const string Path = "/oidc/backchannel-logout";

    public const string LogoutEvent = "http://schemas.openid.net/event/backchannel-logout";

    /// <summary>Oldest <c>iat</c> accepted (beyond the clock skew): a logout token is for now, not for later.</summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromMinutes(5);

    private const int MaxBodyBytes = 16 * 1024;

    public static void Map(WebApplication app) => app.MapPost(Path, HandleAsync);

    private static async Task HandleAsync(HttpContext context, GatewayStateHolder holder, ContinuousEvaluation continuous, TimeProvider time,
        ILoggerFactory loggers)
    {
        var logger = loggers.CreateLogger("ZtGateway.SignIn");
        var state = holder.Current;
        context.Response.Headers.CacheControl = "no-store";
        if (state.Policy.Gateway.SignIn is not { } signIn)
        {
            await Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "this gateway signs nobody in (no signIn section)").ExecuteAsync(context);
            return;
        }

        if (!context.Request.HasFormContentType || context.Request.ContentLength is > MaxBodyBytes)
        {
            await Refuse(context, "the body must be a form of at most 16 KiB with a logout_token");
            return;
        }

        IFormCollection form;
        try
        {
            form = await context.Request.ReadFormAsync(new Microsoft.AspNetCore.Http.Features.FormOptions { ValueLengthLimit = MaxBodyBytes, MultipartBodyLengthLimit = MaxBodyBytes },
                context.RequestAborted);
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException or BadHttpRequestException)
        {
            await Refuse(context, "the form could not be read");
            return;
        }

        var token = form["logout_token"];
        if (token.Count != 1 || string.IsNullOrEmpty(token[0]))
        {
            await Refuse(context, "exactly one logout_token is required");
            return;
        }

        var check = await state.Tokens.VerifyIssuedForAsync(signIn.Issuer, token[0]!, signIn.ClientId, context.RequestAborted);
        if (check.Status != TokenStatus.Valid || check.Token is not { } verified)
        {
            Log.Refused(logger, check.Detail);
            if (check.Transient)
            {
                await Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "the logout token cannot be verified now").ExecuteAsync(context);
                return;
            }

            await Refuse(context, "the logout token is not valid");
            return;
        }

        var now = time.GetUtcNow();
        if (Problem(verified, now, state.Policy.Gateway.Identity.ClockSkew) is { } problem)
        {
            Log.Refused(logger, problem);
            await Refuse(context, problem);
            return;
        }

        var issuer = verified.Issuer;
        var issuedAt = new DateTimeOffset(verified.IssuedAt, TimeSpan.Zero);
        if (!await continuous.TryClaimSignalAsync(issuer, verified.Id, issuedAt, context.RequestAborted))
        {
            await Refuse(context, "this logout token (jti) was already received");
            return;
        }

        var sid = verified.TryGetPayloadValue<string>("sid", out var s) && !string.IsNullOrEmpty(s) ? s : null;
        var sub = verified.TryGetPayloadValue<string>("sub", out var u) && !string.IsNullOrEmpty(u) ? u : null;

        // A sid ends that provider session only; a sub alone ends every session and token of the person.
        var record = sid is not null
            ? new JournalRecord
            {
                Type = JournalRecordTypes.RevokeSession, Target = JournalRecordTypes.SessionTarget, Id = sid,
            }
            : new JournalRecord { Type = JournalRecordTypes.Revoke, Subject = sub };
        continuous.Commit(record with
        {
            Time = now, Issuer = issuer, At = now, Reason = "backchannel-logout", Actor = issuer, TokenId = verified.Id, TokenIssuedAt = issuedAt,
        });
        Log.LoggedOut(logger, sid is not null ? "session " + sid : "subject " + sub, issuer);
        context.Response.StatusCode = StatusCodes.Status200OK;
    }

    private static string? Problem(JsonWebToken token, DateTimeOffset now, TimeSpan skew)
    {
        if (token.TryGetHeaderValue<string>("typ", out var typ) && !string.Equals(typ, "logout+jwt", StringComparison.OrdinalIgnoreCase)
            && !string.Equals(typ, "JWT", StringComparison.OrdinalIgnoreCase))
        {
            return "typ must be logout+jwt";
        }

        if (!token.TryGetPayloadValue<JsonElement>("events", out var events) || events.ValueKind != JsonValueKind.Object
            || !events.TryGetProperty(LogoutEvent, out var member) || member.ValueKind != JsonValueKind.Object)
        {
            return "events must name " + LogoutEvent;
        }

        if (token.TryGetPayloadValue<object>("nonce", out _))
        {
            return "a logout token must not carry a nonce";
        }

        if (string.IsNullOrEmpty(token.Id))
        {
            return "a logout token needs a jti";
        }

        var hasSub = token.TryGetPayloadValue<string>("sub", out var sub) && !string.IsNullOrEmpty(sub);
        var hasSid = token.TryGetPayloadValue<string>("sid", out var sid) && !string.IsNullOrEmpty(sid);
        if (!hasSub && !hasSid)
        {
            return "a logout token names a sub or a sid";
        }

        if (token.IssuedAt == DateTime.MinValue)
        {
            return "a logout token needs an iat";
        }

        var issuedAt = new DateTimeOffset(token.IssuedAt, TimeSpan.Zero);
        return issuedAt > now + skew || issuedAt < now - MaxAge - skew ? "iat is not recent" : null;
    }

    private static Task Refuse(HttpContext context, string why)
    {
        // Section 2.8: 400 with an OAuth 2.0 error.
        context.Response.StatusCode = StatusCodes.Status400BadRequest;
        return context.Response.WriteAsJsonAsync(new Dictionary<string, string> { ["error"] = "invalid_request", ["error_description"] = why });
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1406, Level = LogLevel.Warning, Message = "Back-channel logout refused: {Reason}")]
        public static partial void Refused(ILogger logger, string reason);

        [LoggerMessage(EventId = 1407, Level = LogLevel.Information, Message = "Back-channel logout from {Issuer} ended {What}")]
        public static partial void LoggedOut(ILogger logger, string what, string issuer);
    }
}
