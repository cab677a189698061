using ZtGateway.Enforcement.Model;
using ZtGateway.Policy.Engine;
using ZtGateway.Runtime;
using ZtGateway.Sources.Continuous;

namespace ZtGateway.Management;

/// <summary>
/// <c>POST /device/posture</c>: an EDR/MDM bridge pushes the posture of a device whose certificate names it (docs/design.md
/// section 3). The body is the same signed JWT an <c>X-Device-Posture</c> header carries, its <c>sub</c> the device id,
/// verified by the same verifier; the signature is the push's credential, as a SET's is at <c>/ssf/events</c>. An accepted
/// assertion is written to the state file and shared with the other gateways, and is the device's posture until its
/// <c>exp</c> or until a later one (by <c>iat</c>) replaces it.
/// </summary>
internal static partial class DevicePostureEndpoints
{
    public const string Path = "/device/posture";

    /// <summary>Longest body accepted: a posture assertion is a few hundred bytes.</summary>
    public const int MaxBodyBytes = 16 * 1024;

    public static void Map(WebApplication app) => app.MapPost(Path, HandleAsync);

    private static async Task HandleAsync(HttpContext context, GatewayStateHolder holder, ContinuousEvaluation continuous, TimeProvider time,
        ILoggerFactory loggers)
    {
        var logger = loggers.CreateLogger("ZtGateway.Device");
        var state = holder.Current;
        context.Response.Headers.CacheControl = "no-store";
        if (state.Policy.Gateway.Device.Certificates is null)
        {
            await Answer(context, StatusCodes.Status404NotFound, "not_enabled",
                "this gateway names no device by certificate (no device.certificates section), so it keeps no pushed posture");
            return;
        }

        if (!RequestBodies.HasMediaType(context.Request.ContentType, "application/jwt", "text/plain"))
        {
            await Refuse(context, logger, "the content type must be application/jwt (or text/plain)");
            return;
        }

        var body = context.Request.ContentLength > MaxBodyBytes ? null : await RequestBodies.ReadTextAsync(context.Request.Body, MaxBodyBytes, context.RequestAborted);
        if (body is null)
        {
            await Refuse(context, logger, "the body is larger than a posture assertion can be (16 KiB)");
            return;
        }

        var assertion = body.Trim();
        if (assertion.Length == 0)
        {
            await Refuse(context, logger, "the body must be a posture assertion");
            return;
        }

        var (outcome, issuedAt) = await state.Posture.VerifyPushedAsync(assertion, context.RequestAborted);
        if (outcome.Status != DeviceStatus.Verified || outcome.Device is not { } device || outcome.Expires is not { } expires)
        {
            await Refuse(context, logger, outcome.Detail);
            return;
        }

        var now = time.GetUtcNow();
        var pushed = new PushedPosture(assertion, issuedAt, expires);
        if (continuous.Postures.Latest(device.DeviceId, now) is { } held && held.IssuedAt > issuedAt)
        {
            await Answer(context, StatusCodes.Status409Conflict, "superseded",
                $"a posture assertion issued later ({held.IssuedAt:O}) is in force for device {device.DeviceId}");
            return;
        }

        var persisted = continuous.Commit(PushedPostureStore.Record(device.DeviceId, pushed, now) with { Actor = "device-posture" });
        Log.Accepted(logger, device.DeviceId, device.Compliant, device.Managed, device.Risk.ToString(), expires);
        context.Response.StatusCode = StatusCodes.Status202Accepted;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsJsonAsync(new Dictionary<string, object>
        {
            ["device"] = device.DeviceId,
            ["until"] = expires,
            ["persisted"] = persisted,
        }, context.RequestAborted);
    }

    private static Task Refuse(HttpContext context, ILogger logger, string why)
    {
        Log.Refused(logger, why);
        return Answer(context, StatusCodes.Status400BadRequest, "invalid_posture", why);
    }

    private static Task Answer(HttpContext context, int status, string error, string description)
    {
        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(new Dictionary<string, string> { ["error"] = error, ["error_description"] = description });
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1501, Level = LogLevel.Warning, Message = "Pushed device posture refused: {Reason}")]
        public static partial void Refused(ILogger logger, string reason);

        [LoggerMessage(EventId = 1502, Level = LogLevel.Information,
            Message = "Pushed device posture accepted for device {Device}: compliant {Compliant}, managed {Managed}, risk {Risk}, until {Until}")]
        public static partial void Accepted(ILogger logger, string device, bool compliant, bool managed, string risk, DateTimeOffset until);
    }
}
