using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Loading.Values;
using ZtGateway.Policy.Loading.Yaml;

namespace ZtGateway.Policy.Loading;

/// <summary>The sections of gateway.yaml that name trusted issuers: identity, device and signals.</summary>
internal sealed partial class GatewayFileMapper
{
    private static readonly TimeSpan MaxClockSkew = TimeSpan.FromMinutes(5);

    // Every written issuer name, valid entry or not, so that admin.issuer is not reported again for a broken issuer.
    private readonly Dictionary<string, SourceLocation> issuerNames = new(StringComparer.Ordinal);

    private IdentitySettings ReadIdentity(MappingReader root)
    {
        var settings = new IdentitySettings();
        var node = root.Get("identity");
        if (node is null or ScalarNode { IsNull: true })
        {
            reader.Error(root.Location, $"missing required key 'identity' in {WhereFile} (at least one token issuer is needed)");
            return settings;
        }

        var map = reader.Mapping(node, "identity");
        if (map is null)
        {
            return settings;
        }

        var issuers = new List<IssuerConfig>();
        var issuersNode = map.Required("issuers", "'identity'");
        var sequence = reader.Sequence(issuersNode, "identity.issuers");
        if (sequence is { Items.Count: 0 })
        {
            reader.Error(sequence.Location, "'identity.issuers' must name at least one issuer");
        }

        for (var i = 0; i < (sequence?.Items.Count ?? 0); i++)
        {
            if (ReadIssuer(sequence!.Items[i], i) is { } issuer)
            {
                issuers.Add(issuer);
            }
        }

        settings = settings with
        {
            Issuers = issuers,
            MfaMethods = reader.NonEmptyStringList(map.Get("mfaMethods"), "identity.mfaMethods", "method") ?? settings.MfaMethods,
            ClockSkew = reader.Duration(map.Get("clockSkew"), "identity.clockSkew", positive: false, MaxClockSkew) ?? settings.ClockSkew,
            WorkloadCertificates = ReadWorkloadCertificates(map.Get("workloadCertificates")),
        };
        map.Complete("'identity'");
        return settings;
    }

    private IssuerConfig? ReadIssuer(Node node, int index)
    {
        var map = reader.Mapping(node, "identity.issuers entry");
        if (map is null)
        {
            if (node is ScalarNode { IsNull: true })
            {
                reader.Error(node.Location, "'identity.issuers' has an empty entry");
            }

            return null;
        }

        var nameNode = map.Get("name");
        var where = nameNode is ScalarNode { IsNull: false } written ? $"issuer '{written.Value}'" : $"identity.issuers entry {index + 1}";
        var scoped = reader.Scoped(where);
        var name = scoped.NonEmptyString(map.Required("name", where), "name");
        if (name is not null && !issuerNames.TryAdd(name, nameNode!.Location))
        {
            reader.Error(nameNode.Location, $"duplicate issuer name '{name}' (first at line {issuerNames[name].Line})");
        }

        var type = scoped.Choice(map.Required("type", where), "type", ("entra", IssuerType.Entra), ("oidc", IssuerType.Oidc), ("jwks", IssuerType.Jwks));
        var audiences = scoped.NonEmptyStringList(map.Required("audiences", where), "audiences", "audience") ?? [];
        var requireHttps = scoped.Bool(map.Get("requireHttpsMetadata"), "requireHttpsMetadata") ?? true;

        string? instance = null, tenantId = null, authority = null, issuer = null, jwksFile = null;
        switch (type)
        {
            case IssuerType.Entra:
                NotApplicable(map, scoped, "entra", "authority", "issuer", "jwksFile");
                instance = Authority(scoped, map.Get("instance"), "instance", requireHttps) ?? "https://login.microsoftonline.com/";
                tenantId = scoped.NonEmptyString(map.Required("tenantId", where), "tenantId");
                break;
            case IssuerType.Oidc:
                NotApplicable(map, scoped, "oidc", "instance", "tenantId", "issuer", "jwksFile");
                authority = Authority(scoped, map.Required("authority", where), "authority", requireHttps);
                break;
            case IssuerType.Jwks:
                NotApplicable(map, scoped, "jwks", "instance", "tenantId", "authority", "requireHttpsMetadata");
                issuer = scoped.NonEmptyString(map.Required("issuer", where), "issuer");
                var jwksNode = map.Required("jwksFile", where);
                jwksFile = scoped.ResolvedPath(jwksNode, "jwksFile", baseDirectory);
                if (jwksFile is not null)
                {
                    keyLocations.Jwks.Add((jwksFile, jwksNode!.Location, where + ": jwksFile"));
                }

                break;
            default:
                // Without a valid type the type-specific keys cannot be judged; still accept them as known.
                foreach (var key in new[] { "instance", "tenantId", "authority", "issuer", "jwksFile" })
                {
                    map.Get(key);
                }

                break;
        }

        map.Complete(where);
        return name is null || type is null
            ? null
            : new IssuerConfig
            {
                Name = name,
                Type = type.Value,
                Instance = instance,
                TenantId = tenantId,
                Authority = authority,
                Issuer = issuer,
                JwksFile = jwksFile,
                Audiences = audiences,
                RequireHttpsMetadata = requireHttps,
                Location = map.Location,
            };
    }

    private static void NotApplicable(MappingReader map, NodeReader scoped, string type, params string[] keys)
    {
        foreach (var key in keys)
        {
            if (map.Get(key) is not null)
            {
                scoped.Error(map.KeyLocation(key), $"'{key}' does not apply to an issuer of type {type}");
            }
        }
    }

    private static string? Authority(NodeReader scoped, Node? node, string name, bool requireHttps)
    {
        var url = scoped.HttpUrl(node, name);
        if (url is not null && requireHttps && HttpSyntax.IsPlainHttp(url))
        {
            scoped.Error(node!.Location, $"'{name}' uses plain http ('{url}'); set requireHttpsMetadata: false to allow it (development only)");
            return null;
        }

        return url;
    }

    private DeviceSettings ReadDevice(Node? node)
    {
        var settings = new DeviceSettings();
        var map = reader.Mapping(node, "device");
        if (map is null)
        {
            return settings;
        }

        settings = settings with
        {
            Header = reader.HeaderName(map.Get("header"), "device.header") ?? settings.Header,
            Audience = reader.NonEmptyString(map.Get("audience"), "device.audience") ?? settings.Audience,
            MaxAge = reader.Duration(map.Get("maxAge"), "device.maxAge", positive: true) ?? settings.MaxAge,
            Issuers = ReadKeySources(map.Get("issuers"), "device.issuers", "device issuer", needsAudience: false),
            Certificates = ReadDeviceCertificates(map.Get("certificates")),
        };
        map.Complete("'device'");
        return settings;
    }

    private List<KeySourceConfig> ReadKeySources(Node? node, string listName, string kind, bool needsAudience)
    {
        var result = new List<KeySourceConfig>();
        var sequence = reader.Sequence(node, listName);
        for (var i = 0; i < (sequence?.Items.Count ?? 0); i++)
        {
            var item = sequence!.Items[i];
            var map = reader.Mapping(item, $"{listName} entry");
            if (map is null)
            {
                if (item is ScalarNode { IsNull: true })
                {
                    reader.Error(item.Location, $"'{listName}' has an empty entry");
                }

                continue;
            }

            var where = map.Get("issuer") is ScalarNode { IsNull: false } written ? $"{kind} '{written.Value}'" : $"{listName} entry {i + 1}";
            var scoped = reader.Scoped(where);
            var issuer = scoped.NonEmptyString(map.Required("issuer", where), "issuer");
            var jwksNode = map.Get("jwksFile");
            var jwksFile = scoped.ResolvedPath(jwksNode, "jwksFile", baseDirectory);
            if (jwksFile is not null)
            {
                keyLocations.Jwks.Add((jwksFile, jwksNode!.Location, where + ": jwksFile"));
            }

            var jwksUri = scoped.HttpUrl(map.Get("jwksUri"), "jwksUri");
            var hasFile = map.Has("jwksFile");
            var hasUri = map.Has("jwksUri");
            if (!hasFile && !hasUri)
            {
                reader.Error(map.Location, $"{where} needs exactly one of 'jwksFile' or 'jwksUri'");
            }
            else if (hasFile && hasUri)
            {
                var later = map.KeyLocation("jwksFile").Line > map.KeyLocation("jwksUri").Line ? "jwksFile" : "jwksUri";
                reader.Error(map.KeyLocation(later), $"{where} sets both 'jwksFile' and 'jwksUri'; keep one");
            }

            string? audience = null;
            if (needsAudience)
            {
                audience = scoped.NonEmptyString(map.Required("audience", where), "audience");
            }

            map.Complete(where);
            if (issuer is not null)
            {
                result.Add(new KeySourceConfig
                {
                    Issuer = issuer,
                    JwksFile = jwksFile,
                    JwksUri = jwksUri,
                    Audience = audience,
                    Location = map.Location,
                });
            }
        }

        return result;
    }

    private SignalsSettings ReadSignals(Node? node)
    {
        var settings = new SignalsSettings();
        var map = reader.Mapping(node, "signals");
        if (map is null)
        {
            return settings;
        }

        settings = settings with
        {
            Transmitters = ReadKeySources(map.Get("transmitters"), "signals.transmitters", "signal transmitter", needsAudience: true),
        };
        map.Complete("'signals'");
        return settings;
    }
}
