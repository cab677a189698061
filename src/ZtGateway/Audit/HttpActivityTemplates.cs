using System.Buffers.Text;
using System.Net;
using ZtGateway.Policy.Engine;

namespace ZtGateway.Audit;

/// <summary>
/// The HTTP Activity lines a thread rendered last, kept as templates: a decision like one of them (the same decision,
/// reason, status, method, path, principal, device, source address and policy, as the same objects or equal values)
/// is written by copying the template and putting its own time, decision id and trace id in place, which is what
/// differs between the requests of one caller. The bytes are exactly those <see cref="OcsfWriter.HttpActivity(AuditEvent, System.Text.Json.Utf8JsonWriter)"/>
/// writes (the tests compare both for every shape); anything a template cannot reproduce byte for byte (a time with
/// another number of digits, an id of another length or with characters JSON would escape) is rendered in full.
/// </summary>
internal static class HttpActivityTemplates
{
    private const int Slots = 4;

    [ThreadStatic]
    private static Template?[]? t_slots;

    [ThreadStatic]
    private static int t_next;

    [ThreadStatic]
    private static long t_hits;

    /// <summary>How many lines this thread wrote from a template (tests).</summary>
    internal static long Hits => t_hits;

    /// <summary>Writes the line of <paramref name="e"/> (with its line feed) into <paramref name="line"/> and returns it.</summary>
    public static ReadOnlySpan<byte> Render(AuditEvent e, AuditLine line)
    {
        var slots = t_slots ??= new Template?[Slots];
        var time = e.Time.ToUnixTimeMilliseconds();
        foreach (var template in slots)
        {
            if (template is not null && template.Matches(e, time))
            {
                t_hits++;
                return template.Fill(e, time, line);
            }
        }

        OcsfWriter.HttpActivity(e, line.Json);
        var rendered = line.Complete();
        var slot = slots[t_next] ??= new Template();
        t_next = (t_next + 1) % Slots;
        slot.Capture(e, time, rendered);
        return rendered;
    }

    /// <summary>Forgets this thread's templates (tests).</summary>
    internal static void Reset()
    {
        t_slots = null;
        t_hits = 0;
    }

    private sealed class Template
    {
        private static readonly byte[] TimePrefix = "{\"time\":"u8.ToArray();
        private static readonly byte[] DecisionPrefix = "\"metadata\":{\"uid\":\""u8.ToArray();
        private static readonly byte[] TracePrefix = "\"trace\":{\"uid\":\""u8.ToArray();

        private byte[] _bytes = new byte[2048];
        private int _length;
        private bool _valid;
        private int _timeDigits;
        private int _decisionAt;
        private int _decisionLength;
        private int _traceAt;
        private int _traceLength;

        // What the line was rendered from.
        private Decision? _decision;
        private ReasonCode _reason;
        private int _status;
        private string? _method;
        private string? _path;
        private Principal? _principal;
        private DevicePosture? _device;
        private IPAddress? _address;
        private string? _policyVersion;

        public bool Matches(AuditEvent e, long time) =>
            _valid
            && ReferenceEquals(e.Decision, _decision)
            && e.Reason == _reason
            && e.StatusCode == _status
            && SamePrincipal(e.Principal, _principal)
            && (ReferenceEquals(e.Device, _device) || string.Equals(e.Device?.DeviceId, _device?.DeviceId, StringComparison.Ordinal))
            && string.Equals(e.Method, _method, StringComparison.Ordinal)
            && string.Equals(e.Path, _path, StringComparison.Ordinal)
            && string.Equals(e.PolicyVersion, _policyVersion, StringComparison.Ordinal)
            && Equals(e.ClientAddress, _address)
            && Digits(time) == _timeDigits
            && e.DecisionId.Length == _decisionLength && IsPlain(e.DecisionId)
            && e.TraceId.Length == _traceLength && IsPlain(e.TraceId);

        public ReadOnlySpan<byte> Fill(AuditEvent e, long time, AuditLine line)
        {
            var target = line.WriteRaw(_bytes.AsSpan(0, _length));
            Utf8Formatter.TryFormat(time, target[TimePrefix.Length..], out _);
            Ascii(e.DecisionId, target.Slice(_decisionAt, _decisionLength));
            if (_traceLength > 0)
            {
                Ascii(e.TraceId, target.Slice(_traceAt, _traceLength));
            }

            return target;
        }

        public void Capture(AuditEvent e, long time, ReadOnlySpan<byte> rendered)
        {
            _valid = false;
            var decisionAt = Find(rendered, DecisionPrefix);
            var traceAt = e.TraceId.Length > 0 ? Find(rendered, TracePrefix) : 0;
            var digits = Digits(time);
            if (!rendered.StartsWith(TimePrefix) || decisionAt < 0 || traceAt < 0 || !IsPlain(e.DecisionId) || !IsPlain(e.TraceId)
                || !Holds(rendered, TimePrefix.Length, time.ToString(System.Globalization.CultureInfo.InvariantCulture))
                || !Holds(rendered, decisionAt, e.DecisionId) || (e.TraceId.Length > 0 && !Holds(rendered, traceAt, e.TraceId)))
            {
                return;
            }

            if (_bytes.Length < rendered.Length)
            {
                _bytes = new byte[rendered.Length];
            }

            rendered.CopyTo(_bytes);
            _length = rendered.Length;
            _timeDigits = digits;
            _decisionAt = decisionAt;
            _decisionLength = e.DecisionId.Length;
            _traceAt = traceAt;
            _traceLength = e.TraceId.Length;
            _decision = e.Decision;
            _reason = e.Reason;
            _status = e.StatusCode;
            _method = e.Method;
            _path = e.Path;
            _principal = e.Principal;
            _device = e.Device;
            _address = e.ClientAddress;
            _policyVersion = e.PolicyVersion;
            _valid = true;
        }

        // What the line says of a principal: its kind, and its subject or workload id. Distinct tokens of one caller are
        // distinct objects that write the same.
        private static bool SamePrincipal(Principal? a, Principal? b) =>
            ReferenceEquals(a, b)
            || (a is not null && b is not null && a.Kind == b.Kind && string.Equals(a.Subject, b.Subject, StringComparison.Ordinal)
                && string.Equals(a.WorkloadId, b.WorkloadId, StringComparison.Ordinal));

        // The offset just after the only place the prefix can be: JSON escapes every quote inside a string.
        private static int Find(ReadOnlySpan<byte> rendered, ReadOnlySpan<byte> prefix)
        {
            var at = rendered.IndexOf(prefix);
            return at < 0 ? -1 : at + prefix.Length;
        }

        private static bool Holds(ReadOnlySpan<byte> rendered, int at, string value)
        {
            if (at + value.Length > rendered.Length)
            {
                return false;
            }

            for (var i = 0; i < value.Length; i++)
            {
                if (rendered[at + i] != value[i])
                {
                    return false;
                }
            }

            return true;
        }

        // Ids a JSON writer copies as they are: hex digits, letters and dashes.
        private static bool IsPlain(string value)
        {
            foreach (var c in value)
            {
                if (!(char.IsAsciiLetterOrDigit(c) || c == '-'))
                {
                    return false;
                }
            }

            return true;
        }

        private static void Ascii(string value, Span<byte> target)
        {
            for (var i = 0; i < value.Length; i++)
            {
                target[i] = (byte)value[i];
            }
        }

        private static int Digits(long value)
        {
            var digits = 1;
            while (value >= 10)
            {
                value /= 10;
                digits++;
            }

            return value < 0 ? 0 : digits;
        }
    }
}
