using System.Globalization;

namespace SoakClient;

/// <summary><c>--name value</c> pairs of one command line; every option a command reads must be present or defaulted.</summary>
internal sealed class Arguments
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);

    public Arguments(IEnumerable<string> args)
    {
        string? name = null;
        foreach (var arg in args)
        {
            if (arg.StartsWith("--", StringComparison.Ordinal))
            {
                if (name is not null)
                {
                    throw new ArgumentException($"--{name} needs a value");
                }

                name = arg[2..];
            }
            else if (name is null)
            {
                throw new ArgumentException($"unexpected argument '{arg}'");
            }
            else
            {
                _values[name] = arg;
                name = null;
            }
        }

        if (name is not null)
        {
            throw new ArgumentException($"--{name} needs a value");
        }
    }

    public string Text(string name) =>
        _values.TryGetValue(name, out var value) ? value : throw new ArgumentException($"--{name} is required");

    public string Text(string name, string fallback) => _values.GetValueOrDefault(name, fallback);

    public string? Optional(string name) => _values.GetValueOrDefault(name);

    public double Number(string name, double fallback) =>
        _values.TryGetValue(name, out var value)
            ? double.Parse(value, NumberStyles.Float, CultureInfo.InvariantCulture)
            : fallback;

    public TimeSpan Duration(string name, TimeSpan fallback) =>
        _values.TryGetValue(name, out var value) ? ParseDuration(value) : fallback;

    /// <summary>Durations as the gateway's YAML writes them: <c>90s</c>, <c>10m</c>, <c>1h</c>, <c>250ms</c>.</summary>
    public static TimeSpan ParseDuration(string text)
    {
        var unit = text.EndsWith("ms", StringComparison.Ordinal) ? "ms" : text[^1..];
        var number = text[..^unit.Length];
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var amount) || amount < 0)
        {
            throw new ArgumentException($"'{text}' is not a duration (use e.g. 250ms, 30s, 10m, 1h)");
        }

        return unit switch
        {
            "ms" => TimeSpan.FromMilliseconds(amount),
            "s" => TimeSpan.FromSeconds(amount),
            "m" => TimeSpan.FromMinutes(amount),
            "h" => TimeSpan.FromHours(amount),
            _ => throw new ArgumentException($"'{text}' is not a duration (use e.g. 250ms, 30s, 10m, 1h)"),
        };
    }
}
