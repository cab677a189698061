using System.Text.Json.Serialization;

namespace ZtGateway.Sources.Continuous;

/// <summary>
/// One line of the state file: a change to revocations, quarantines or the detection baseline. Lines are
/// only ever appended; the live state is what replaying them in order gives. Field use depends on
/// <see cref="Type"/> (see <see cref="JournalRecordTypes"/>); absent fields are not written.
/// </summary>
internal sealed record JournalRecord
{
    /// <summary>What the line records; one of <see cref="JournalRecordTypes"/>.</summary>
    [JsonPropertyName("type")]
    public required string Type { get; init; }

    /// <summary>When the gateway wrote the line.</summary>
    [JsonPropertyName("time")]
    public DateTimeOffset Time { get; init; }

    /// <summary>Revocation and step-up: the token issuer (<c>iss</c>) of the subject.</summary>
    [JsonPropertyName("iss")]
    public string? Issuer { get; init; }

    /// <summary>Revocation and step-up: the subject (<c>sub</c>).</summary>
    [JsonPropertyName("sub")]
    public string? Subject { get; init; }

    /// <summary>
    /// Revocation and step-up: tokens issued at or before this instant are affected. Hold and release: the
    /// instant of the event that caused them (orders compliance signals that arrive out of order).
    /// </summary>
    [JsonPropertyName("at")]
    public DateTimeOffset? At { get; init; }

    /// <summary>Hold and release: <c>principal</c> or <c>device</c>.</summary>
    [JsonPropertyName("target")]
    public string? Target { get; init; }

    /// <summary>Hold and release: the principal id or device id.</summary>
    [JsonPropertyName("id")]
    public string? Id { get; init; }

    /// <summary>Hold and release: who placed the hold (<c>admin</c>, <c>signal</c>, <c>detection</c>); a release without one lifts every hold.</summary>
    [JsonPropertyName("origin")]
    public string? Origin { get; init; }

    /// <summary>Hold: when it lapses by itself; absent for a hold that lasts until released.</summary>
    [JsonPropertyName("until")]
    public DateTimeOffset? Until { get; init; }

    /// <summary>Why: a CAEP event name, a detection kind, or the operator's words.</summary>
    [JsonPropertyName("reason")]
    public string? Reason { get; init; }

    /// <summary>Who: the transmitter's issuer, the admin's subject, or the detector.</summary>
    [JsonPropertyName("actor")]
    public string? Actor { get; init; }

    /// <summary>For changes made by a signal: the SET's <c>jti</c>, so a replay is recognised across a restart.</summary>
    [JsonPropertyName("jti")]
    public string? TokenId { get; init; }

    /// <summary>For changes made by a signal: the SET's <c>iat</c>; the replay guard forgets it once the SET is too old anyway.</summary>
    [JsonPropertyName("setIat")]
    public DateTimeOffset? TokenIssuedAt { get; init; }

    /// <summary>Pair: the source segment.</summary>
    [JsonPropertyName("src")]
    public string? SourceSegment { get; init; }

    /// <summary>Pair: the destination segment.</summary>
    [JsonPropertyName("dst")]
    public string? DestinationSegment { get; init; }

    /// <summary>Posture: the signed posture assertion pushed for the device <c>id</c>, verified again wherever it is used.</summary>
    [JsonPropertyName("assertion")]
    public string? Assertion { get; init; }
}

/// <summary>The kinds of <see cref="JournalRecord"/>.</summary>
internal static class JournalRecordTypes
{
    /// <summary>Tokens of <c>iss</c>/<c>sub</c> issued at or before <c>at</c> are revoked.</summary>
    public const string Revoke = "revoke";

    /// <summary>
    /// Tokens and browser sessions of the provider session <c>iss</c>/<c>id</c> (its <c>sid</c>) issued at or before <c>at</c>
    /// are revoked; <c>target</c> is <see cref="SessionTarget"/>.
    /// </summary>
    public const string RevokeSession = "revoke-session";

    /// <summary>The <c>target</c> of a <see cref="RevokeSession"/> line.</summary>
    public const string SessionTarget = "session";

    /// <summary>Tokens of <c>iss</c>/<c>sub</c> issued at or before <c>at</c> must step up.</summary>
    public const string StepUp = "step-up";

    /// <summary>A quarantine hold on a principal or device.</summary>
    public const string Hold = "hold";

    /// <summary>Lifts the holds of one origin (or all) on a principal or device.</summary>
    public const string Release = "release";

    /// <summary>When the detector's learning period began (written once).</summary>
    public const string Learning = "learning";

    /// <summary>A source-to-destination segment pair the detector now knows.</summary>
    public const string Pair = "pair";

    /// <summary>
    /// The posture assertion an EDR/MDM bridge pushed for device <c>id</c> (<c>assertion</c>), issued at <c>at</c>, in force
    /// until <c>until</c>; <c>target</c> is <c>device</c>.
    /// </summary>
    public const string Posture = "posture";

    /// <summary>A signal that changed nothing but whose <c>jti</c> must not be accepted again.</summary>
    public const string Seen = "seen";
}
