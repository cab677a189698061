namespace ZtGateway.Policy.Loading.Values;

/// <summary>Parses durations such as <c>30s</c>, <c>15m</c>, <c>12h</c>, <c>7d</c>, <c>500ms</c> and <c>1h30m</c>.</summary>
internal static class DurationParser
{
    // Largest units first; each unit at most once, so "1h30m" is fine and "30m1h" or "1h1h" is not.
    private static readonly (string Suffix, long Ticks)[] Units =
    [
        ("d", TimeSpan.TicksPerDay),
        ("h", TimeSpan.TicksPerHour),
        ("ms", TimeSpan.TicksPerMillisecond),
        ("m", TimeSpan.TicksPerMinute),
        ("s", TimeSpan.TicksPerSecond),
    ];

    private static readonly string[] Order = ["d", "h", "m", "s", "ms"];

    public static bool TryParse(string text, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        if (text == "0")
        {
            return true;
        }

        long ticks = 0;
        var lastRank = -1;
        var i = 0;
        while (i < text.Length)
        {
            var start = i;
            while (i < text.Length && char.IsAsciiDigit(text[i]))
            {
                i++;
            }

            // Nine digits are plenty and keep the multiplication far from overflow.
            if (i == start || i - start > 9)
            {
                return false;
            }

            var number = long.Parse(text.AsSpan(start, i - start), provider: System.Globalization.CultureInfo.InvariantCulture);
            var unit = Array.Find(Units, u => text.AsSpan(i).StartsWith(u.Suffix, StringComparison.Ordinal));
            if (unit.Suffix is null)
            {
                return false;
            }

            var rank = Array.IndexOf(Order, unit.Suffix);
            if (rank <= lastRank)
            {
                return false;
            }

            if (number > (long.MaxValue - ticks) / unit.Ticks)
            {
                return false;
            }

            lastRank = rank;
            i += unit.Suffix.Length;
            ticks += number * unit.Ticks;
        }

        value = TimeSpan.FromTicks(ticks);
        return text.Length > 0;
    }
}
