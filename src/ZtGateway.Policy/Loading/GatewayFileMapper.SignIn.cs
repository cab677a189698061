using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Loading.Yaml;

namespace ZtGateway.Policy.Loading;

/// <summary>
/// What browser sign-in needs from gateway.yaml: the <c>signIn:</c> section (the provider, client and session) and
/// <c>device.certificates</c> (the MDM's client certificates that name a browser's device).
/// </summary>
internal sealed partial class GatewayFileMapper
{
    private const string SignInKey = "signIn";
    private const string DeviceCertificatesKey = "device.certificates";

    private static readonly TimeSpan MinSessionLifetime = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan MaxSessionLifetime = TimeSpan.FromHours(24);

    // Whether gateway.yaml writes a signIn: section, valid or not, so that a segment's signIn: true is judged against it.
    private bool signInWritten;

    private SignInSettings? ReadSignIn(Node? node, IReadOnlyList<IssuerConfig> issuers)
    {
        signInWritten = node is not null and not ScalarNode { IsNull: true };
        var map = reader.Mapping(node, SignInKey);
        if (map is null)
        {
            return null;
        }

        var errors = reader.Diagnostics.ErrorCount;
        var where = $"'{SignInKey}'";
        var issuer = ReadSignInIssuer(map.Required("issuer", where), issuers);
        var clientId = reader.NonEmptyString(map.Required("clientId", where), "signIn.clientId");

        var secretNode = map.Required("clientSecretFile", where);
        var secretFile = reader.ResolvedPath(secretNode, "signIn.clientSecretFile", baseDirectory);
        if (secretFile is not null)
        {
            keyLocations.ClientSecret = (secretFile, secretNode!.Location);
        }

        var scopes = ReadScopes(map.Get("scopes"));
        var lifetime = ReadSessionLifetime(map.Get("sessionLifetime"));
        map.Complete(where);

        if (issuer is null || clientId is null || secretFile is null || reader.Diagnostics.ErrorCount != errors)
        {
            return null;
        }

        var settings = new SignInSettings
        {
            Issuer = issuer,
            ClientId = clientId,
            ClientSecretFile = secretFile,
            Scopes = scopes ?? SignInSettings.DefaultScopes,
            Location = map.Location,
        };
        return lifetime is { } written ? settings with { SessionLifetime = written } : settings;
    }

    private string? ReadSignInIssuer(Node? node, IReadOnlyList<IssuerConfig> issuers)
    {
        var name = reader.NonEmptyString(node, "signIn.issuer");
        if (name is null)
        {
            return null;
        }

        if (!issuerNames.ContainsKey(name))
        {
            reader.Error(node!.Location, $"'signIn.issuer' names '{name}', which is not an entry of identity.issuers");
            return null;
        }

        // A written but broken issuer entry has its own error; only a valid one can be judged by its type.
        if (issuers.FirstOrDefault(i => i.Name == name) is { Type: IssuerType.Jwks })
        {
            reader.Error(node!.Location,
                $"'signIn.issuer' names '{name}', an issuer of type jwks, which cannot sign people in (it has static keys and no " +
                "authorization endpoint); name an issuer of type oidc or entra");
            return null;
        }

        return name;
    }

    private List<string>? ReadScopes(Node? node)
    {
        const string Name = "signIn.scopes";
        var items = reader.ScalarList(node, Name);
        if (items is null)
        {
            return null;
        }

        var errors = reader.Diagnostics.ErrorCount;
        var scopes = new List<string>(items.Count);
        var seen = new Dictionary<string, SourceLocation>(StringComparer.Ordinal);
        foreach (var item in items)
        {
            if (!IsScopeToken(item.Value))
            {
                reader.Error(item.Location,
                    $"'{Name}' has an invalid scope '{item.Value}' (one scope per entry: printable ASCII without spaces, '\"' or '\\')");
            }
            else if (!seen.TryAdd(item.Value, item.Location))
            {
                reader.Error(item.Location, $"scope '{item.Value}' is listed twice in '{Name}' (first at line {seen[item.Value].Line})");
            }
            else
            {
                scopes.Add(item.Value);
            }
        }

        // An entry with an error of its own may have been meant as openid: say nothing more then.
        if (reader.Diagnostics.ErrorCount == errors && items.Count == ((SequenceNode)node!).Items.Count && !seen.ContainsKey("openid"))
        {
            reader.Error(node.Location, $"'{Name}' must contain openid: without it the provider returns no ID token");
        }

        return scopes;
    }

    // A scope is an RFC 6749 scope-token: printable ASCII without space, '"' or '\'.
    private static bool IsScopeToken(string scope) =>
        scope.Length > 0 && scope.All(c => c is >= '!' and <= '~' and not '"' and not '\\');

    private TimeSpan? ReadSessionLifetime(Node? node)
    {
        const string Name = "signIn.sessionLifetime";
        var lifetime = reader.Duration(node, Name, positive: false);
        if (lifetime < MinSessionLifetime || lifetime > MaxSessionLifetime)
        {
            reader.Error(node!.Location, $"'{Name}' must be from 5m to 24h, not '{((ScalarNode)node).Value}'");
            return null;
        }

        return lifetime;
    }

    private DeviceCertificateSettings? ReadDeviceCertificates(Node? node)
    {
        var map = reader.Mapping(node, DeviceCertificatesKey);
        if (map is null)
        {
            return null;
        }

        var where = $"'{DeviceCertificatesKey}'";
        var caNode = map.Required("ca", where);
        var ca = reader.ResolvedPath(caNode, DeviceCertificatesKey + ".ca", baseDirectory);
        if (ca is not null)
        {
            // Checked with the key files, as the CA of an otlp audit sink is.
            keyLocations.Certificates.Add((ca, caNode!.Location, DeviceCertificatesKey + ".ca"));
        }

        var idFromNode = map.Get("idFrom");
        var idFrom = reader.Choice(idFromNode, DeviceCertificatesKey + ".idFrom",
            ("uri", DeviceIdSource.Uri), ("dns", DeviceIdSource.Dns), ("cn", DeviceIdSource.Cn));
        map.Complete(where);

        var idFromBroken = idFromNode is not null and not ScalarNode { IsNull: true } && idFrom is null;
        return ca is null || idFromBroken
            ? null
            : new DeviceCertificateSettings
            {
                Ca = new PemFile(ca, caNode!.Location),
                IdFrom = idFrom ?? DeviceIdSource.Uri,
                Location = map.Location,
            };
    }
}
