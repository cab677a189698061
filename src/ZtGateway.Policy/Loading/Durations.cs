using ZtGateway.Policy.Loading.Values;

namespace ZtGateway.Policy.Loading;

/// <summary>The duration syntax of the policy files (<c>500ms</c>, <c>30s</c>, <c>15m</c>, <c>12h</c>, <c>7d</c>, <c>1h30m</c>), for command-line options too.</summary>
public static class Durations
{
    /// <summary>Parses a duration; false for anything else.</summary>
    public static bool TryParse(string text, out TimeSpan value) => DurationParser.TryParse(text, out value);

    /// <summary>
    /// Writes a duration in the same syntax: what the policy files accept is what we print, and
    /// <see cref="TryParse"/> reads the text back to exactly <paramref name="value"/>. One number in the largest unit
    /// that divides the value exactly (<c>2d</c>, <c>36h</c>, <c>90m</c>, <c>1500ms</c>), a compound such as
    /// <c>30d1ms</c> only when that number would be too long for the syntax; zero is <c>0s</c>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="value"/> is negative or not a whole number of milliseconds, which the syntax cannot write.</exception>
    public static string Format(TimeSpan value) => DurationFormat.Format(value);
}
