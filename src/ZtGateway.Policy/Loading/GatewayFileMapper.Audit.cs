using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Loading.Values;
using ZtGateway.Policy.Loading.Yaml;

namespace ZtGateway.Policy.Loading;

/// <summary>The <c>audit</c> section: its sinks (stdout, <c>file:PATH</c>, <c>type: otlp</c> mappings), <c>allows</c> and <c>spool</c>.</summary>
internal sealed partial class GatewayFileMapper
{
    // Headers the exporter writes itself, or that belong to the connection: a configured value would break the export.
    private static readonly HashSet<string> ReservedHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "content-type", "content-length", "content-encoding", "host", "connection", "te", "transfer-encoding", "upgrade",
        "keep-alive", "proxy-connection", "grpc-encoding", "grpc-accept-encoding", "grpc-timeout",
    };

    private AuditSettings ReadAudit(Node? node)
    {
        var settings = new AuditSettings();
        var map = reader.Mapping(node, "audit");
        if (map is null)
        {
            return settings;
        }

        var sinksNode = map.Get("sinks");
        var sequence = reader.Sequence(sinksNode, "audit.sinks");
        if (sequence is not null)
        {
            if (sequence.Items.Count == 0)
            {
                reader.Error(sequence.Location, "'audit.sinks' must name at least one sink (stdout or file:PATH)");
            }

            var resolved = new List<string>(sequence.Items.Count);
            var otlp = new List<OtlpSinkSettings>();
            for (var i = 0; i < sequence.Items.Count; i++)
            {
                switch (sequence.Items[i])
                {
                    case ScalarNode scalar when scalar.IsNull || string.IsNullOrWhiteSpace(scalar.Value):
                        reader.Error(scalar.Location, "'audit.sinks' has an empty entry");
                        break;
                    case ScalarNode scalar:
                        if (ReadSink(scalar) is { } value)
                        {
                            resolved.Add(value);
                        }

                        break;
                    case MappingNode mapping:
                        if (ReadOtlpSink(mapping, i) is { } sink)
                        {
                            otlp.Add(sink);
                        }

                        break;
                    case var other:
                        reader.Error(other.Location, $"each entry of 'audit.sinks' must be stdout, file:PATH or a mapping with 'type', not {other.KindName}");
                        break;
                }
            }

            if (resolved.Count == 0 && otlp.Count > 0)
            {
                reader.Warning(sequence.Location,
                    "'audit.sinks' has only otlp sinks: a record the collector does not take is lost; add stdout or file:PATH to keep every line");
            }

            settings = settings with { Sinks = resolved, OtlpSinks = otlp };
        }

        settings = settings with
        {
            Allows = reader.Bool(map.Get("allows"), "audit.allows") ?? settings.Allows,
            Spool = ReadSpool(map.Get("spool")) ?? settings.Spool,
        };
        map.Complete("'audit'");
        return settings;
    }

    // audit.spool: the file (relative to gateway.yaml; default in gateway.stateDir, resolved at start) and its size.
    private AuditSpoolSettings? ReadSpool(Node? node)
    {
        var map = reader.Mapping(node, "audit.spool");
        if (map is null)
        {
            return null;
        }

        var settings = new AuditSpoolSettings { Location = map.Location };
        var path = reader.ResolvedPath(map.Get("path"), "audit.spool.path", baseDirectory);
        var sizeNode = reader.Scalar(map.Get("size"), "audit.spool.size");
        var size = settings.Size;
        if (sizeNode is not null)
        {
            if (!TryParseSize(sizeNode.Value, out var parsed))
            {
                reader.Error(sizeNode.Location,
                    $"'audit.spool.size' must be a size such as 32MiB (a positive whole number of KiB, MiB or GiB), not '{sizeNode.Value}'");
            }
            else if (parsed is < AuditSpoolSettings.MinSize or > AuditSpoolSettings.MaxSize)
            {
                reader.Error(sizeNode.Location, $"'audit.spool.size' must be from 1MiB to 4GiB, not '{sizeNode.Value}'");
            }
            else
            {
                size = parsed;
            }
        }

        map.Complete("'audit.spool'");
        return settings with { Path = path, Size = size };
    }

    // "<count>KiB", "<count>MiB" or "<count>GiB": a positive whole number without sign or spaces, then the unit as written.
    private static bool TryParseSize(string text, out long bytes)
    {
        bytes = 0;
        if (text.Length < 4)
        {
            return false;
        }

        var unit = text[^3..] switch
        {
            "KiB" => 1024L,
            "MiB" => 1024L * 1024,
            "GiB" => 1024L * 1024 * 1024,
            _ => 0L,
        };

        // Nine digits are more than any accepted size needs (4194304KiB is 4GiB) and keep the product far from overflow.
        var digits = text.AsSpan(0, text.Length - 3);
        if (unit == 0 || digits.Length > 9
            || !long.TryParse(digits, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var count)
            || count <= 0)
        {
            return false;
        }

        bytes = count * unit;
        return true;
    }

    private string? ReadSink(ScalarNode sink)
    {
        const string FilePrefix = "file:";
        if (sink.Value == "stdout")
        {
            return sink.Value;
        }

        if (sink.Value.StartsWith(FilePrefix, StringComparison.Ordinal))
        {
            var path = sink.Value[FilePrefix.Length..];
            if (path.Trim().Length > 0 && NodeReader.ResolvePath(baseDirectory, path) is { } full)
            {
                return FilePrefix + full;
            }

            reader.Error(sink.Location, $"audit sink '{sink.Value}' needs a file path after 'file:'");
            return null;
        }

        reader.Error(sink.Location, $"audit sink '{sink.Value}' must be stdout or file:PATH");
        return null;
    }

    // A mapping entry of audit.sinks; only type: otlp exists. Header values are never echoed in a message.
    private OtlpSinkSettings? ReadOtlpSink(MappingNode node, int index)
    {
        var errors = reader.Diagnostics.ErrorCount;
        var map = reader.Mapping(node, "audit.sinks entry")!;
        var endpointNode = map.Get("endpoint");
        var where = endpointNode is ScalarNode { IsNull: false } written && HttpSyntax.IsHttpUrl(written.Value) && !HasUserInfo(written.Value)
            ? $"audit sink 'otlp:{written.Value}'"
            : $"audit.sinks entry {index + 1}";
        var scoped = reader.Scoped(where);

        var type = scoped.ChoiceWord(map.Required("type", where), "type", "otlp");
        var endpoint = Endpoint(scoped, map.Required("endpoint", where));
        var protocol = scoped.ChoiceWord(map.Get("protocol"), "protocol", OtlpSinkSettings.Grpc, OtlpSinkSettings.HttpProtobuf)
            ?? OtlpSinkSettings.HttpProtobuf;
        var headers = Headers(scoped, map.Get("headers"));

        var caNode = map.Get("ca");
        var ca = scoped.ResolvedPath(caNode, "ca", baseDirectory);
        if (ca is not null && endpoint is not null && !endpoint.StartsWith("https:", StringComparison.OrdinalIgnoreCase))
        {
            scoped.Error(caNode!.Location, "'ca' verifies an https endpoint; this endpoint is plain http");
            ca = null;
        }
        else if (ca is not null)
        {
            keyLocations.Certificates.Add((ca, caNode!.Location, where + ": ca"));
        }

        var maxQueueNode = map.Get("maxQueue");
        var maxQueue = scoped.PositiveInt(maxQueueNode, "maxQueue");
        if (maxQueue > OtlpSinkSettings.MaxMaxQueue)
        {
            scoped.Error(maxQueueNode!.Location, $"'maxQueue' must be at most {OtlpSinkSettings.MaxMaxQueue}, not '{maxQueue}'");
            maxQueue = null;
        }

        map.Complete(where);
        if (type is null || endpoint is null || reader.Diagnostics.ErrorCount != errors)
        {
            return null;
        }

        return new OtlpSinkSettings
        {
            Endpoint = endpoint,
            Protocol = protocol,
            Headers = headers,
            CaFile = ca,
            MaxQueue = maxQueue ?? OtlpSinkSettings.DefaultMaxQueue,
        };
    }

    private static string? Endpoint(NodeReader scoped, Node? node)
    {
        var scalar = scoped.Scalar(node, "endpoint");
        if (scalar is null)
        {
            return null;
        }

        // Before the URL check, whose message repeats the value: a password must not reach the log.
        if (HasUserInfo(scalar.Value))
        {
            scoped.Error(scalar.Location, "'endpoint' must not hold a user name or password; send credentials in 'headers'");
            return null;
        }

        if (!HttpSyntax.IsHttpUrl(scalar.Value))
        {
            scoped.Error(scalar.Location, $"'endpoint' must be an absolute http or https URL, not '{scalar.Value}'");
            return null;
        }

        var uri = new Uri(scalar.Value);
        if (uri.Query.Length > 0 || uri.Fragment.Length > 0)
        {
            scoped.Error(scalar.Location, $"'endpoint' must not have a query or a fragment, not '{scalar.Value}'");
            return null;
        }

        return scalar.Value;
    }

    private static bool HasUserInfo(string text) =>
        Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.UserInfo.Length > 0;

    // Bad entries are reported and left out; the caller sees the errors in the bag.
    private static Dictionary<string, string> Headers(NodeReader scoped, Node? node)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var map = scoped.Mapping(node, "headers");
        if (map is null)
        {
            return headers;
        }

        var first = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in map.Entries())
        {
            var name = key.Value;
            if (!HttpSyntax.IsToken(name))
            {
                scoped.Error(key.Location, $"'headers' name '{name}' is not an HTTP header name");
                continue;
            }

            if (ReservedHeaders.Contains(name))
            {
                scoped.Error(key.Location, $"'headers' must not set '{name}': the exporter or the connection sets it");
                continue;
            }

            if (!first.TryAdd(name, key.Location.Line))
            {
                scoped.Error(key.Location, $"'headers' names '{name}' twice (header names ignore case; first at line {first[name]})");
                continue;
            }

            // A value that is not a single value, or is empty, is reported by NonEmptyString, without the value.
            var text = scoped.NonEmptyString(value, "headers." + name);
            if (value is ScalarNode { IsNull: true })
            {
                scoped.Error(key.Location, $"missing value for header '{name}'");
            }
            else if (text is not null && text.Any(c => c is < ' ' or > '~'))
            {
                scoped.Error(value.Location, $"'headers.{name}' must be printable ASCII (no line breaks or control characters)");
            }
            else if (text is not null)
            {
                headers[name] = text;
            }
        }

        map.Complete("'headers'");
        return headers;
    }
}
