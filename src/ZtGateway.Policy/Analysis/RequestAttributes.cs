using System.Net;
using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Engine;

namespace ZtGateway.Policy.Analysis;

/// <summary>What a person's verified token says, written as attributes instead of a signed token.</summary>
public sealed record UserAttributes
{
    /// <summary>The <c>sub</c>. Required.</summary>
    public required string Subject { get; init; }

    /// <summary>The <c>groups</c> claim.</summary>
    public IReadOnlyList<string> Groups { get; init; } = [];

    /// <summary>The <c>roles</c> claim.</summary>
    public IReadOnlyList<string> Roles { get; init; } = [];

    /// <summary>The <c>amr</c> claim; empty (the default) means no multi-factor method.</summary>
    public IReadOnlyList<string> Amr { get; init; } = [];

    /// <summary>The <c>acr</c> claim.</summary>
    public string? Acr { get; init; }

    /// <summary>How long before the decision the person authenticated. Defaults to zero: just now.</summary>
    public TimeSpan AuthAge { get; init; }
}

/// <summary>What a verified device-posture assertion says, written as attributes.</summary>
public sealed record DeviceAttributes
{
    /// <summary>The device id. Defaults to <c>device</c>.</summary>
    public string Id { get; init; } = "device";

    /// <summary>The device's home segment. Required.</summary>
    public required string Segment { get; init; }

    /// <summary>The device reports itself compliant.</summary>
    public bool Compliant { get; init; }

    /// <summary>The device reports itself managed.</summary>
    public bool Managed { get; init; }

    /// <summary>The reported risk. Defaults to low.</summary>
    public RiskLevel Risk { get; init; } = RiskLevel.Low;
}

/// <summary>
/// A request described by attributes rather than by token material: what <c>ztgw explain --user ...</c> and the
/// cases of <c>ztgw test</c> are written in. <see cref="ToContext"/> turns it into the <see cref="RequestContext"/>
/// the gateway would have built had the same facts been verified.
/// </summary>
public sealed record RequestAttributes
{
    /// <summary>The destination segment. Required.</summary>
    public required string Segment { get; init; }

    /// <summary>HTTP method. Defaults to GET.</summary>
    public string Method { get; init; } = "GET";

    /// <summary>Request path. Required.</summary>
    public required string Path { get; init; }

    /// <summary>The client address; null when unknown.</summary>
    public IPAddress? ClientAddress { get; init; }

    /// <summary>A person; at most one of this and <see cref="Workload"/>.</summary>
    public UserAttributes? User { get; init; }

    /// <summary>A workload id; at most one of this and <see cref="User"/>.</summary>
    public string? Workload { get; init; }

    /// <summary>A verified device; null when none was presented.</summary>
    public DeviceAttributes? Device { get; init; }

    /// <summary>
    /// A token refusal to simulate (<see cref="TokenStatus.Missing"/>, <see cref="TokenStatus.Invalid"/>,
    /// <see cref="TokenStatus.Expired"/>, <see cref="TokenStatus.Revoked"/>); null derives it: valid with a user or
    /// workload, missing without.
    /// </summary>
    public TokenStatus? Token { get; init; }

    /// <summary>
    /// The credential is bound to the connection: a token whose <c>cnf</c> names the client certificate presented, or a
    /// workload certificate (what <c>boundToken: true</c> asks for). Defaults to false: a bearer token.
    /// </summary>
    public bool Bound { get; init; }

    /// <summary>The request as the engine sees it, with times relative to <paramref name="now"/>.</summary>
    /// <exception cref="ArgumentException">Both a user and a workload are given.</exception>
    public RequestContext ToContext(DateTimeOffset now)
    {
        if (User is not null && Workload is not null)
        {
            throw new ArgumentException("a request has either a user or a workload, not both");
        }

        var principal = User is { } user
            ? new Principal
            {
                Kind = PrincipalKind.User,
                Subject = user.Subject,
                Groups = user.Groups,
                Roles = user.Roles,
                Amr = user.Amr,
                Acr = user.Acr,
                AuthTime = now - user.AuthAge,
                IssuedAt = now - user.AuthAge,
            }
            : Workload is { } workload
                ? new Principal { Kind = PrincipalKind.Workload, Subject = workload, WorkloadId = workload }
                : null;

        var token = Token ?? (principal is null ? TokenStatus.Missing : TokenStatus.Valid);
        return new RequestContext
        {
            Segment = Segment,
            Method = Method.ToUpperInvariant(),
            Path = Path,
            ClientAddress = ClientAddress,
            Token = token,
            Principal = token == TokenStatus.Valid ? principal : null,
            Binding = Bound ? CredentialBinding.BoundToken : CredentialBinding.None,
            DeviceStatus = Device is null ? DeviceStatus.Absent : DeviceStatus.Verified,
            Device = Device is { } device
                ? new DevicePosture
                {
                    DeviceId = device.Id,
                    Segment = device.Segment,
                    Compliant = device.Compliant,
                    Managed = device.Managed,
                    Risk = device.Risk,
                }
                : null,
        };
    }
}
