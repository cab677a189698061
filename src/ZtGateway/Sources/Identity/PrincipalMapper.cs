using System.Globalization;
using Microsoft.IdentityModel.JsonWebTokens;
using ZtGateway.Policy.Engine;

namespace ZtGateway.Sources.Identity;

/// <summary>
/// Turns the claims of a verified token, or the SPIFFE id of a verified X.509-SVID, into a <see cref="Principal"/>
/// (docs/design.md section 3). One mapping for every issuer type and for workload certificates, so a workload is
/// recognised the same way whoever issued its credential.
/// </summary>
internal static class PrincipalMapper
{
    private const string SpiffeScheme = "spiffe://";

    /// <summary>Maps <paramref name="token"/>; returns null with a reason when the token cannot name a caller.</summary>
    /// <param name="token">A token whose signature, issuer, audience and lifetime are already verified.</param>
    /// <param name="failure">Why no principal could be built.</param>
    public static Principal? Map(JsonWebToken token, out string? failure)
    {
        ArgumentNullException.ThrowIfNull(token);
        var subject = GetString(token, "sub");
        if (string.IsNullOrWhiteSpace(subject))
        {
            failure = "token has no sub";
            return null;
        }

        var azp = GetString(token, "azp");
        var clientId = GetString(token, "client_id");
        var appId = GetString(token, "appid");
        var isSpiffe = subject.StartsWith(SpiffeScheme, StringComparison.Ordinal);
        var isWorkload = isSpiffe
            || string.Equals(GetString(token, "idtyp"), "app", StringComparison.Ordinal)
            || string.Equals(subject, azp, StringComparison.Ordinal)
            || string.Equals(subject, clientId, StringComparison.Ordinal);

        string? workloadId = null;
        if (isWorkload)
        {
            // An app token without any client claim still needs a name for workload rules to match on.
            workloadId = isSpiffe ? subject : FirstNonEmpty(azp, clientId, appId) ?? subject;
        }

        failure = null;
        return new Principal
        {
            Kind = isWorkload ? PrincipalKind.Workload : PrincipalKind.User,
            Subject = subject,
            Issuer = token.Issuer ?? string.Empty,
            WorkloadId = workloadId,
            Groups = GetStrings(token, "groups"),
            Roles = GetStrings(token, "roles"),
            Amr = GetStrings(token, "amr"),
            Acr = GetString(token, "acr"),
            AuthTime = GetUnixTime(token, "auth_time"),
            IssuedAt = token.IssuedAt == DateTime.MinValue ? null : new DateTimeOffset(token.IssuedAt, TimeSpan.Zero),
            SessionId = GetString(token, "sid"),
        };
    }

    /// <summary>
    /// The principal an X.509-SVID names: the workload a token whose <c>sub</c> is <paramref name="spiffeId"/> would
    /// name (a workload whose subject and workload id are the SPIFFE id), with issuer <c>x509:TRUST-DOMAIN</c> and, as
    /// its issue time, the certificate's <c>notBefore</c>. A certificate carries no groups, roles or authentication methods.
    /// </summary>
    /// <param name="spiffeId">A valid SPIFFE id of a workload (<see cref="Policy.Configuration.SpiffeId.CheckWorkloadId"/>).</param>
    /// <param name="trustDomain">Its trust domain.</param>
    /// <param name="notBefore">The certificate's <c>notBefore</c>.</param>
    public static Principal MapWorkloadCertificate(string spiffeId, string trustDomain, DateTimeOffset notBefore)
    {
        ArgumentException.ThrowIfNullOrEmpty(spiffeId);
        ArgumentException.ThrowIfNullOrEmpty(trustDomain);
        return new Principal
        {
            Kind = PrincipalKind.Workload,
            Subject = spiffeId,
            Issuer = CertificateIssuerPrefix + trustDomain,
            WorkloadId = spiffeId,
            IssuedAt = notBefore,
        };
    }

    /// <summary>The prefix of the issuer of a certificate-named workload: <c>x509:TRUST-DOMAIN</c>, never an <c>iss</c> of a token.</summary>
    public const string CertificateIssuerPrefix = "x509:";

    private static string? FirstNonEmpty(params string?[] values)
        => values.FirstOrDefault(value => !string.IsNullOrWhiteSpace(value));

    private static string? GetString(JsonWebToken token, string claim)
        => token.TryGetPayloadValue<string>(claim, out var value) ? value : null;

    // Claims such as roles and amr arrive as a JSON array or, from some issuers, as one string; the flattened
    // claim list covers both shapes.
    private static List<string> GetStrings(JsonWebToken token, string claim)
    {
        var values = new List<string>();
        foreach (var item in token.Claims)
        {
            if (string.Equals(item.Type, claim, StringComparison.Ordinal) && !string.IsNullOrEmpty(item.Value))
            {
                values.Add(item.Value);
            }
        }

        return values;
    }

    private static DateTimeOffset? GetUnixTime(JsonWebToken token, string claim)
    {
        if (!token.TryGetClaim(claim, out var value) || string.IsNullOrEmpty(value.Value))
        {
            return null;
        }

        if (!double.TryParse(value.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds)
            || double.IsNaN(seconds) || seconds < 0 || seconds > 253402300799)
        {
            return null;
        }

        return DateTimeOffset.FromUnixTimeSeconds((long)seconds);
    }
}
