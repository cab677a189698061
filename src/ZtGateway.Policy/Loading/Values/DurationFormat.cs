using System.Globalization;

namespace ZtGateway.Policy.Loading.Values;

/// <summary>
/// Writes durations in the syntax <see cref="DurationParser"/> reads, so that every duration printed parses back to
/// exactly the value it was printed from.
/// </summary>
internal static class DurationFormat
{
    // Largest first, as the parser wants them in a compound.
    private static readonly (string Suffix, long Ticks)[] Units =
    [
        ("d", TimeSpan.TicksPerDay),
        ("h", TimeSpan.TicksPerHour),
        ("m", TimeSpan.TicksPerMinute),
        ("s", TimeSpan.TicksPerSecond),
        ("ms", TimeSpan.TicksPerMillisecond),
    ];

    // The parser reads at most nine digits per number.
    private const long MaxNumber = 999_999_999;

    /// <summary>
    /// One number in the largest unit that divides <paramref name="value"/> exactly (<c>2d</c>, <c>36h</c>, <c>90m</c>,
    /// <c>1500ms</c>); when that number would be longer than nine digits, a compound instead, each unit from days down
    /// at most once and zero parts left out (<c>30d1ms</c>). Zero is <c>0s</c>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="value"/> is negative or has a part finer than a millisecond; the syntax has no way to write either.</exception>
    public static string Format(TimeSpan value)
    {
        if (value < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, "The duration syntax has no negative durations.");
        }

        if (value.Ticks % TimeSpan.TicksPerMillisecond != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, "The duration syntax has nothing finer than a millisecond.");
        }

        if (value == TimeSpan.Zero)
        {
            return "0s";
        }

        var exact = Array.Find(Units, u => value.Ticks % u.Ticks == 0);
        if (value.Ticks / exact.Ticks <= MaxNumber)
        {
            return Number(value.Ticks / exact.Ticks) + exact.Suffix;
        }

        var text = string.Empty;
        var rest = value.Ticks;
        foreach (var (suffix, ticks) in Units)
        {
            if (rest >= ticks)
            {
                text += Number(rest / ticks) + suffix;
                rest %= ticks;
            }
        }

        return text;
    }

    private static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);
}
