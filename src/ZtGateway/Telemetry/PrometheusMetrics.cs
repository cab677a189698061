using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace ZtGateway.Telemetry;

/// <summary>
/// Keeps running totals of the selected instruments and renders them in the Prometheus text exposition format
/// 0.0.4: counters as <c>NAME_total</c>, up-down counters as gauges, histograms as cumulative
/// <c>_bucket{le=...}</c> series with <c>_sum</c> and <c>_count</c>. Names and label names have every character
/// outside <c>[a-zA-Z0-9_]</c> replaced by <c>_</c>; a unit of <c>s</c> adds <c>_seconds</c>.
/// </summary>
internal sealed class PrometheusMetrics : IDisposable
{
    /// <summary>The media type of the text format.</summary>
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    // The OpenTelemetry defaults, for histograms that do not advise their own.
    private static readonly double[] DefaultBuckets = [0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000];

    private readonly MeterListener _listener;
    private readonly ConcurrentDictionary<Instrument, Family> _families = new();

    /// <summary>Starts listening to every instrument, present or future, that <paramref name="include"/> selects.</summary>
    public PrometheusMetrics(Func<Instrument, bool> include)
    {
        ArgumentNullException.ThrowIfNull(include);
        _listener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (include(instrument) && Family.TryCreate(instrument) is { } family)
                {
                    _families[instrument] = family;
                    listener.EnableMeasurementEvents(instrument, family);
                }
            },
            MeasurementsCompleted = (instrument, _) => _families.TryRemove(instrument, out Family? _),
        };
        _listener.SetMeasurementEventCallback<long>(static (_, value, tags, state) => ((Family)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<int>(static (_, value, tags, state) => ((Family)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<double>(static (_, value, tags, state) => ((Family)state!).Record(value, tags));
        _listener.Start();
    }

    /// <summary>Renders every series, families ordered by name and series by labels.</summary>
    public string Render()
    {
        var text = new StringBuilder(1024);
        foreach (var family in _families.Values.OrderBy(f => f.Name, StringComparer.Ordinal))
        {
            family.Write(text);
        }

        return text.ToString();
    }

    public void Dispose() => _listener.Dispose();

    /// <summary>Prometheus metric name: sanitized, with the unit and counter suffixes.</summary>
    public static string MetricName(string name, string? unit, bool counter)
    {
        var result = Sanitize(name);
        var suffix = unit switch
        {
            "s" => "_seconds",
            "ms" => "_milliseconds",
            "By" => "_bytes",
            _ => string.Empty,
        };
        if (suffix.Length > 0 && !result.EndsWith(suffix, StringComparison.Ordinal))
        {
            result += suffix;
        }

        return counter && !result.EndsWith("_total", StringComparison.Ordinal) ? result + "_total" : result;
    }

    public static string Sanitize(string name)
    {
        var chars = name.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            var c = chars[i];
            if (!(char.IsAsciiLetterOrDigit(c) || c == '_') || (i == 0 && char.IsAsciiDigit(c)))
            {
                chars[i] = '_';
            }
        }

        return new string(chars);
    }

    /// <summary>A label value with backslash, double quote and line feed escaped.</summary>
    public static string EscapeLabelValue(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    public static string FormatNumber(double value) => value switch
    {
        double.PositiveInfinity => "+Inf",
        double.NegativeInfinity => "-Inf",
        double.NaN => "NaN",
        _ => value.ToString("R", CultureInfo.InvariantCulture),
    };

    // Labels rendered once per distinct tag set: `a="x",b="y"`, sorted by label name, empty values left out.
    private static string Labels(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (tags.Length == 0)
        {
            return string.Empty;
        }

        var pairs = new List<(string Name, string Value)>(tags.Length);
        foreach (var tag in tags)
        {
            var value = Convert.ToString(tag.Value, CultureInfo.InvariantCulture);
            if (!string.IsNullOrEmpty(value))
            {
                pairs.Add((Sanitize(tag.Key), value));
            }
        }

        pairs.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return string.Join(',', pairs.Select(p => p.Name + "=\"" + EscapeLabelValue(p.Value) + "\""));
    }

    /// <summary>One instrument and its series.</summary>
    private abstract class Family(string name, string? help)
    {
        // Tag sets seen before find their series without rendering labels; past this many, labels are rendered.
        private const int MaxTagSets = 10_000;

        private readonly ConcurrentDictionary<string, Series> _series = new(StringComparer.Ordinal);
        private readonly ConcurrentDictionary<KeyValuePair<string, object?>[], Series> _byTags = new(TagSetComparer.Instance);

        public string Name { get; } = name;

        public static Family? TryCreate(Instrument instrument)
        {
            var type = instrument.GetType();
            if (!type.IsGenericType)
            {
                return null;
            }

            var definition = type.GetGenericTypeDefinition();
            if (definition == typeof(Counter<>))
            {
                return new SumFamily(MetricName(instrument.Name, instrument.Unit, counter: true), instrument.Description, "counter");
            }

            if (definition == typeof(UpDownCounter<>))
            {
                return new SumFamily(MetricName(instrument.Name, instrument.Unit, counter: false), instrument.Description, "gauge");
            }

            if (definition == typeof(Histogram<>))
            {
                var bounds = instrument switch
                {
                    Histogram<double> d => d.Advice?.HistogramBucketBoundaries?.ToArray(),
                    Histogram<long> l => l.Advice?.HistogramBucketBoundaries?.Select(b => (double)b).ToArray(),
                    Histogram<int> i => i.Advice?.HistogramBucketBoundaries?.Select(b => (double)b).ToArray(),
                    _ => null,
                };
                return new HistogramFamily(MetricName(instrument.Name, instrument.Unit, counter: false), instrument.Description, bounds ?? DefaultBuckets);
            }

            return null;
        }

        public void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var known = _byTags.GetAlternateLookup<ReadOnlySpan<KeyValuePair<string, object?>>>();
            if (!known.TryGetValue(tags, out var series))
            {
                // Tag sets that differ only in order or value type share the series their labels name.
                var labels = Labels(tags);
                series = _series.GetOrAdd(labels, _ => CreateSeries());
                if (_byTags.Count < MaxTagSets)
                {
                    known.TryAdd(tags, series);
                }
            }

            series.Add(value);
        }

        public void Write(StringBuilder text)
        {
            if (!string.IsNullOrEmpty(help))
            {
                text.Append("# HELP ").Append(Name).Append(' ')
                    .Append(help.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal)).Append('\n');
            }

            text.Append("# TYPE ").Append(Name).Append(' ').Append(Type).Append('\n');
            foreach (var (labels, series) in _series.OrderBy(s => s.Key, StringComparer.Ordinal))
            {
                series.Write(text, Name, labels);
            }
        }

        protected abstract string Type { get; }

        protected abstract Series CreateSeries();
    }

    /// <summary>Tag sets compared by name (ordinal) and value (<see cref="object.Equals(object, object)"/>), in order.</summary>
    private sealed class TagSetComparer :
        IEqualityComparer<KeyValuePair<string, object?>[]>,
        IAlternateEqualityComparer<ReadOnlySpan<KeyValuePair<string, object?>>, KeyValuePair<string, object?>[]>
    {
        public static readonly TagSetComparer Instance = new();

        public bool Equals(KeyValuePair<string, object?>[]? x, KeyValuePair<string, object?>[]? y) =>
            ReferenceEquals(x, y) || (x is not null && y is not null && Equals(x.AsSpan(), y));

        public int GetHashCode(KeyValuePair<string, object?>[] tags) => GetHashCode(tags.AsSpan());

        public bool Equals(ReadOnlySpan<KeyValuePair<string, object?>> alternate, KeyValuePair<string, object?>[] other)
        {
            if (alternate.Length != other.Length)
            {
                return false;
            }

            for (var i = 0; i < alternate.Length; i++)
            {
                if (!string.Equals(alternate[i].Key, other[i].Key, StringComparison.Ordinal) || !Equals(alternate[i].Value, other[i].Value))
                {
                    return false;
                }
            }

            return true;
        }

        public int GetHashCode(ReadOnlySpan<KeyValuePair<string, object?>> alternate)
        {
            var hash = new HashCode();
            foreach (var tag in alternate)
            {
                hash.Add(tag.Key, StringComparer.Ordinal);
                hash.Add(tag.Value);
            }

            return hash.ToHashCode();
        }

        public KeyValuePair<string, object?>[] Create(ReadOnlySpan<KeyValuePair<string, object?>> alternate) => alternate.ToArray();
    }

    private abstract class Series
    {
        public abstract void Add(double value);

        public abstract void Write(StringBuilder text, string name, string labels);

        protected static void Line(StringBuilder text, string name, string labels, string extraLabel, string value)
        {
            text.Append(name);
            if (labels.Length > 0 || extraLabel.Length > 0)
            {
                text.Append('{').Append(labels);
                if (labels.Length > 0 && extraLabel.Length > 0)
                {
                    text.Append(',');
                }

                text.Append(extraLabel).Append('}');
            }

            text.Append(' ').Append(value).Append('\n');
        }

        protected static void AddDouble(ref double target, double value)
        {
            var current = Volatile.Read(ref target);
            while (true)
            {
                var seen = Interlocked.CompareExchange(ref target, current + value, current);
                if (seen.Equals(current))
                {
                    return;
                }

                current = seen;
            }
        }
    }

    private sealed class SumFamily(string name, string? help, string type) : Family(name, help)
    {
        protected override string Type => type;

        protected override Series CreateSeries() => new Sum();

        private sealed class Sum : Series
        {
            private double _total;

            public override void Add(double value) => AddDouble(ref _total, value);

            public override void Write(StringBuilder text, string name, string labels) =>
                Line(text, name, labels, string.Empty, FormatNumber(Volatile.Read(ref _total)));
        }
    }

    private sealed class HistogramFamily(string name, string? help, double[] bounds) : Family(name, help)
    {
        protected override string Type => "histogram";

        protected override Series CreateSeries() => new Buckets(bounds);

        private sealed class Buckets(double[] bounds) : Series
        {
            // counts[i] holds values <= bounds[i] and > bounds[i-1]; the last slot holds the rest (+Inf).
            private readonly long[] _counts = new long[bounds.Length + 1];
            private double _sum;

            public override void Add(double value)
            {
                var index = Array.BinarySearch(bounds, value);
                Interlocked.Increment(ref _counts[index >= 0 ? index : ~index]);
                AddDouble(ref _sum, value);
            }

            public override void Write(StringBuilder text, string name, string labels)
            {
                long cumulative = 0;
                for (var i = 0; i < _counts.Length; i++)
                {
                    cumulative += Interlocked.Read(ref _counts[i]);
                    var le = i < bounds.Length ? FormatNumber(bounds[i]) : "+Inf";
                    Line(text, name + "_bucket", labels, "le=\"" + le + "\"", cumulative.ToString(CultureInfo.InvariantCulture));
                }

                Line(text, name + "_sum", labels, string.Empty, FormatNumber(Volatile.Read(ref _sum)));
                Line(text, name + "_count", labels, string.Empty, cumulative.ToString(CultureInfo.InvariantCulture));
            }
        }
    }
}
