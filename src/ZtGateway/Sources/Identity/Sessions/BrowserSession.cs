using System.Text.Json;
using System.Text.Json.Serialization;
using ZtGateway.Policy.Engine;

namespace ZtGateway.Sources.Identity.Sessions;

/// <summary>
/// A person signed in with a browser at one segment's listener: the principal mapped from the verified ID token (the
/// same mapping as a bearer token's), which segment and which issuer it belongs to, and how long it lasts. Carried in
/// the segment's session cookie, encrypted and signed (<see cref="SessionProtector"/>); the gateway keeps no session table.
/// </summary>
internal sealed partial record BrowserSession
{
    /// <summary>The segment whose listener made the session; it is worthless at any other.</summary>
    public required string Segment { get; init; }

    /// <summary>The name of the <c>identity.issuers</c> entry the person signed in at.</summary>
    public required string IssuerName { get; init; }

    /// <summary>The person, from the ID token: <c>sub</c>, <c>iss</c>, <c>groups</c>, <c>roles</c>, <c>amr</c>, <c>acr</c>, <c>auth_time</c>, <c>iat</c>, <c>sid</c>.</summary>
    public required Principal Principal { get; init; }

    /// <summary>When the session was made (the callback).</summary>
    public required DateTimeOffset Created { get; init; }

    /// <summary>When it ends whatever happens meanwhile: <see cref="Created"/> plus <c>signIn.sessionLifetime</c>.</summary>
    public required DateTimeOffset Expires { get; init; }

    /// <summary>When the sign-in that made it was a step-up asked for by a refusal; null for a first sign-in.</summary>
    public DateTimeOffset? SteppedUpAt { get; init; }

    /// <summary>The session as compact JSON (version 1).</summary>
    public byte[] Serialize() => JsonSerializer.SerializeToUtf8Bytes(new Wire
    {
        Version = 1,
        Segment = Segment,
        IssuerName = IssuerName,
        Subject = Principal.Subject,
        Issuer = Principal.Issuer,
        Groups = Principal.Groups.Count == 0 ? null : [.. Principal.Groups],
        Roles = Principal.Roles.Count == 0 ? null : [.. Principal.Roles],
        Amr = Principal.Amr.Count == 0 ? null : [.. Principal.Amr],
        Acr = Principal.Acr,
        AuthTime = Principal.AuthTime?.ToUnixTimeSeconds(),
        IssuedAt = Principal.IssuedAt?.ToUnixTimeSeconds(),
        SessionId = Principal.SessionId,
        Created = Created.ToUnixTimeSeconds(),
        Expires = Expires.ToUnixTimeSeconds(),
        SteppedUpAt = SteppedUpAt?.ToUnixTimeSeconds(),
    }, WireContext.Default.Wire);

    /// <summary>Reads what <see cref="Serialize"/> wrote; null for anything else.</summary>
    public static BrowserSession? Deserialize(ReadOnlySpan<byte> json)
    {
        Wire? wire;
        try
        {
            wire = JsonSerializer.Deserialize(json, WireContext.Default.Wire);
        }
        catch (JsonException)
        {
            return null;
        }

        if (wire is not { Version: 1, Segment.Length: > 0, IssuerName.Length: > 0, Subject.Length: > 0, Issuer: not null })
        {
            return null;
        }

        return new BrowserSession
        {
            Segment = wire.Segment,
            IssuerName = wire.IssuerName,
            Principal = new Principal
            {
                Kind = PrincipalKind.User,
                Subject = wire.Subject,
                Issuer = wire.Issuer,
                Groups = wire.Groups ?? [],
                Roles = wire.Roles ?? [],
                Amr = wire.Amr ?? [],
                Acr = wire.Acr,
                AuthTime = FromUnix(wire.AuthTime),
                IssuedAt = FromUnix(wire.IssuedAt),
                SessionId = wire.SessionId,
            },
            Created = DateTimeOffset.FromUnixTimeSeconds(wire.Created),
            Expires = DateTimeOffset.FromUnixTimeSeconds(wire.Expires),
            SteppedUpAt = FromUnix(wire.SteppedUpAt),
        };
    }

    private static DateTimeOffset? FromUnix(long? seconds) =>
        seconds is { } s and >= 0 and <= 253402300799 ? DateTimeOffset.FromUnixTimeSeconds(s) : null;

    internal sealed class Wire
    {
        [JsonPropertyName("v")] public int Version { get; set; }
        [JsonPropertyName("seg")] public string? Segment { get; set; }
        [JsonPropertyName("idp")] public string? IssuerName { get; set; }
        [JsonPropertyName("sub")] public string? Subject { get; set; }
        [JsonPropertyName("iss")] public string? Issuer { get; set; }
        [JsonPropertyName("groups")] public string[]? Groups { get; set; }
        [JsonPropertyName("roles")] public string[]? Roles { get; set; }
        [JsonPropertyName("amr")] public string[]? Amr { get; set; }
        [JsonPropertyName("acr")] public string? Acr { get; set; }
        [JsonPropertyName("auth_time")] public long? AuthTime { get; set; }
        [JsonPropertyName("iat")] public long? IssuedAt { get; set; }
        [JsonPropertyName("sid")] public string? SessionId { get; set; }
        [JsonPropertyName("c")] public long Created { get; set; }
        [JsonPropertyName("e")] public long Expires { get; set; }
        [JsonPropertyName("su")] public long? SteppedUpAt { get; set; }
    }

    [JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
    [JsonSerializable(typeof(Wire))]
    internal sealed partial class WireContext : JsonSerializerContext;
}
