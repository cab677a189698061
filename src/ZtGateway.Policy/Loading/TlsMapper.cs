using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Loading.Yaml;

namespace ZtGateway.Policy.Loading;

/// <summary>
/// Maps the transport keys of a segment file: <c>protocols</c>, the listener's <c>tls</c> and each service's <c>tls</c>
/// (docs/configuration.md, segment file). Paths are resolved from the folder of gateway.yaml; what the files hold is
/// checked with the key files (<see cref="KeyFiles.CheckTransport"/>).
/// </summary>
internal static class TlsMapper
{
    private const string Http1 = "http1";
    private const string Http2 = "http2";

    /// <summary>
    /// Reads <c>protocols</c>. Absent: both on an https listener, HTTP/1.1 alone on an http one. Null after an error.
    /// <paramref name="https"/> is null when the listen URL is missing or malformed (its own error says so).
    /// </summary>
    public static ListenerProtocols? ReadProtocols(NodeReader reader, Node? node, bool? https)
    {
        var entries = reader.ScalarList(node, "protocols");
        if (entries is null)
        {
            return node is null or ScalarNode { IsNull: true }
                ? https == false ? ListenerProtocols.Http1 : ListenerProtocols.Http1AndHttp2
                : null;
        }

        if (entries.Count == 0)
        {
            if (node is SequenceNode { Items.Count: 0 })
            {
                reader.Error(node.Location, "'protocols' must name at least one protocol (http1, http2)");
            }

            return null;
        }

        var errors = reader.Diagnostics.ErrorCount;
        ListenerProtocols protocols = 0;
        foreach (var entry in entries)
        {
            ListenerProtocols? one = entry.Value switch
            {
                Http1 => ListenerProtocols.Http1,
                Http2 => ListenerProtocols.Http2,
                _ => null,
            };
            if (one is not { } protocol)
            {
                reader.Error(entry.Location, $"protocol '{entry.Value}' in 'protocols' must be {Http1} or {Http2}");
            }
            else if ((protocols & protocol) != 0)
            {
                reader.Error(entry.Location, $"protocol '{entry.Value}' is listed twice in 'protocols'");
            }
            else
            {
                protocols |= protocol;
            }
        }

        if (reader.Diagnostics.ErrorCount != errors)
        {
            return null;
        }

        if (https == false && protocols == ListenerProtocols.Http1AndHttp2)
        {
            // Kestrel cannot upgrade a plain connection to h2c, and prior knowledge cannot share a port with HTTP/1.1.
            reader.Error(node!.Location,
                "'protocols' [http1, http2] needs an https listen: a plain http listener serves either [http1] or [http2] (h2c with prior knowledge)");
            return null;
        }

        return protocols;
    }

    /// <summary>
    /// Reads the listener's <c>tls</c>: required on an https listen (reported at <paramref name="listenLocation"/>), an error on
    /// an http one. <paramref name="https"/> is null when the listen URL is missing or malformed.
    /// </summary>
    public static ListenerTls? ReadListenerTls(NodeReader reader, MappingReader segment, bool? https, string listen, SourceLocation listenLocation,
        string baseDirectory)
    {
        var node = segment.Get("tls");
        var map = reader.Mapping(node, "tls");
        if (map is null)
        {
            if (https == true && node is null or ScalarNode { IsNull: true })
            {
                reader.Error(listenLocation, $"listen '{listen}' is https and needs a 'tls' section with 'certificate' and 'key'");
            }

            return null;
        }

        var errors = reader.Diagnostics.ErrorCount;
        if (https == false)
        {
            reader.Error(segment.KeyLocation("tls"), $"'tls' needs an https listen; listen '{listen}' is plain http");
        }

        var certificate = File(reader, map, "certificate", "tls.certificate", "'tls'", baseDirectory, required: true);
        var key = File(reader, map, "key", "tls.key", "'tls'", baseDirectory, required: true);
        var modeNode = map.Get("clientCertificates");
        var mode = reader.Choice(modeNode, "tls.clientCertificates",
            ("none", ClientCertificateRequirement.None), ("optional", ClientCertificateRequirement.Optional), ("required", ClientCertificateRequirement.Required));
        var clientCa = File(reader, map, "clientCA", "tls.clientCA", "'tls'", baseDirectory, required: false);
        var version = reader.Choice(map.Get("minVersion"), "tls.minVersion", ("1.2", TlsMinimumVersion.Tls12), ("1.3", TlsMinimumVersion.Tls13));
        map.Complete("'tls'");

        // An unreadable mode has its own error; the pairing is checked against a mode that was understood.
        var effective = modeNode is null or ScalarNode { IsNull: true } ? ClientCertificateRequirement.None : mode;
        if (effective is ClientCertificateRequirement.Optional or ClientCertificateRequirement.Required && !map.Has("clientCA"))
        {
            reader.Error(modeNode!.Location,
                $"'tls.clientCA' is required when 'tls.clientCertificates' is {Word(effective.Value)}: name the CA bundle client certificates must chain to");
        }
        else if (effective is ClientCertificateRequirement.None && map.Has("clientCA"))
        {
            reader.Error(map.Get("clientCA")!.Location,
                "'tls.clientCA' is set but 'tls.clientCertificates' is none, so no client certificate is asked for; set it to optional or required, or remove 'tls.clientCA'");
        }

        if (certificate is null || key is null || reader.Diagnostics.ErrorCount != errors)
        {
            return null;
        }

        return new ListenerTls
        {
            Certificate = certificate,
            Key = key,
            ClientCertificates = mode ?? ClientCertificateRequirement.None,
            ClientCa = clientCa,
            MinVersion = version ?? TlsMinimumVersion.Tls12,
            Location = segment.KeyLocation("tls"),
        };
    }

    /// <summary>
    /// Reads a service's <c>tls</c> with <paramref name="scoped"/> (messages start with the service). It applies to https
    /// destinations: on a service whose destinations are all plain http it is an error.
    /// </summary>
    public static UpstreamTls? ReadServiceTls(NodeReader scoped, MappingReader service, string where, IReadOnlyList<string> destinations,
        string baseDirectory)
    {
        var map = scoped.Mapping(service.Get("tls"), "tls");
        if (map is null)
        {
            return null;
        }

        var errors = scoped.Diagnostics.ErrorCount;
        var location = service.KeyLocation("tls");
        var scope = $"'tls' of {where}";
        var ca = File(scoped, map, "ca", "tls.ca", scope, baseDirectory, required: false);
        var certificate = File(scoped, map, "clientCertificate", "tls.clientCertificate", scope, baseDirectory, required: false);
        var key = File(scoped, map, "clientKey", "tls.clientKey", scope, baseDirectory, required: false);
        map.Complete(scope);

        if (map.Has("clientCertificate") != map.Has("clientKey"))
        {
            var missing = map.Has("clientCertificate") ? "clientKey" : "clientCertificate";
            scoped.Error(location, $"'tls.clientCertificate' and 'tls.clientKey' go together; 'tls.{missing}' is missing");
        }

        if (destinations.Count > 0 && destinations.All(d => !d.StartsWith("https:", StringComparison.OrdinalIgnoreCase)))
        {
            scoped.Error(location, "'tls' applies to https destinations, and every destination of this service is plain http");
        }

        return scoped.Diagnostics.ErrorCount != errors ? null : new UpstreamTls { Ca = ca, ClientCertificate = certificate, ClientKey = key, Location = location };
    }

    private static PemFile? File(NodeReader reader, MappingReader map, string key, string name, string where, string baseDirectory, bool required)
    {
        var node = required ? map.Required(key, where) : map.Get(key);
        var path = reader.ResolvedPath(node, name, baseDirectory);
        return path is null ? null : new PemFile(path, node!.Location);
    }

    private static string Word(ClientCertificateRequirement mode) => mode switch
    {
        ClientCertificateRequirement.Optional => "optional",
        ClientCertificateRequirement.Required => "required",
        _ => "none",
    };
}
