using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Loading.Yaml;

namespace ZtGateway.Policy.Loading;

/// <summary>Maps the transport keys of a segment file: <c>protocols</c> (docs/configuration.md, segment file).</summary>
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
}
