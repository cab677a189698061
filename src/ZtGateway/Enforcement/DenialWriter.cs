using System.Globalization;
using System.Text;
using System.Text.Json;
using ZtGateway.Policy.Engine;

namespace ZtGateway.Enforcement;

/// <summary>
/// Writes a refusal as RFC 9457 problem+json with the RFC 6750 / RFC 9470 challenge (docs/design.md section 5).
/// The body names only the reason code: never token contents, rule names or other policy internals. A gRPC caller
/// gets the same refusal as gRPC status trailers (<see cref="GrpcDenialWriter"/>); a browser that asks for HTML gets a small
/// page with the same status, challenge and ids (<see cref="SignIn.BrowserPages"/>).
/// </summary>
internal static class DenialWriter
{
    public const string ProblemContentType = "application/problem+json";
    private const string TypePrefix = "urn:ztgw:problem:";

    public static Task WriteAsync(HttpContext context, string segment, ReasonCode reason, string decisionId, string traceId,
        IReadOnlyList<string>? acrValues = null, TimeSpan? maxAge = null, int? status = null, bool boundToAnotherCertificate = false,
        string? signInLink = null)
    {
        var statusCode = status ?? ReasonStatus.For(reason);
        if (GrpcDenialWriter.IsGrpc(context.Request))
        {
            return GrpcDenialWriter.WriteAsync(context, reason, decisionId, traceId, statusCode);
        }

        var response = context.Response;
        var code = reason.ToCode();
        var challenge = Challenge(segment, reason, acrValues, maxAge, boundToAnotherCertificate);
        if (challenge is not null)
        {
            response.Headers.WWWAuthenticate = challenge;
        }

        if (SignIn.BrowserPages.WantsHtml(context.Request))
        {
            return SignIn.BrowserPages.WriteAsync(context, statusCode, SignIn.BrowserPages.Refusal(reason, statusCode, decisionId, traceId, signInLink));
        }

        response.StatusCode = statusCode;
        response.ContentType = ProblemContentType;
        response.Headers.CacheControl = "no-store";

        var buffer = new MemoryStream(256);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("type", TypePrefix + code);
            json.WriteString("title", ReasonStatus.Title(reason));
            json.WriteNumber("status", statusCode);
            json.WriteString("reason", code);
            json.WriteString("traceId", traceId);
            json.WriteString("decisionId", decisionId);
            json.WriteEndObject();
        }

        response.ContentLength = buffer.Length;
        return response.Body.WriteAsync(buffer.GetBuffer(), 0, (int)buffer.Length, context.RequestAborted);
    }

    /// <summary>The fixed <c>error_description</c> of a token refused because it is bound to a certificate the connection did not present.</summary>
    public const string BoundToAnotherCertificateDescription = "the token is bound to a client certificate this connection did not present";

    /// <summary>The fixed <c>error_description</c> of <c>token-unbound</c>.</summary>
    public const string BoundTokenRequiredDescription = "a certificate-bound token is required";

    /// <summary>
    /// The <c>WWW-Authenticate</c> value for a reason, or null when none is due (403, 404, 5xx). An
    /// <c>error_description</c> (RFC 6750 section 3) is a fixed sentence, never token contents.
    /// </summary>
    /// <param name="segment">The listener's segment: the realm.</param>
    /// <param name="reason">Why the request was refused.</param>
    /// <param name="acrValues">For a step-up: the acceptable <c>acr</c> values.</param>
    /// <param name="maxAge">For a step-up: the rule's <c>maxAuthAge</c>.</param>
    /// <param name="boundToAnotherCertificate">For <c>token-invalid</c>: the token is bound to a certificate the connection did not present.</param>
    public static string? Challenge(string segment, ReasonCode reason, IReadOnlyList<string>? acrValues, TimeSpan? maxAge,
        bool boundToAnotherCertificate = false)
    {
        var realm = "Bearer realm=\"ztgw:" + segment + "\"";
        switch (reason)
        {
            case ReasonCode.TokenMissing:
                return realm;
            case ReasonCode.TokenInvalid when boundToAnotherCertificate:
                return realm + ", error=\"invalid_token\", error_description=\"" + BoundToAnotherCertificateDescription + "\"";
            case ReasonCode.TokenUnbound:
                return realm + ", error=\"invalid_token\", error_description=\"" + BoundTokenRequiredDescription + "\"";
            case ReasonCode.TokenInvalid or ReasonCode.TokenExpired or ReasonCode.TokenRevoked:
                return realm + ", error=\"invalid_token\"";
            case ReasonCode.MfaRequired or ReasonCode.AuthTooOld or ReasonCode.AcrInsufficient:
                var builder = new StringBuilder(realm).Append(", error=\"insufficient_user_authentication\"");
                if (acrValues is { Count: > 0 })
                {
                    builder.Append(", acr_values=\"").Append(string.Join(' ', acrValues)).Append('"');
                }

                if (maxAge is { } age)
                {
                    builder.Append(", max_age=").Append(((long)age.TotalSeconds).ToString(CultureInfo.InvariantCulture));
                }

                return builder.ToString();
            default:
                return null;
        }
    }
}
