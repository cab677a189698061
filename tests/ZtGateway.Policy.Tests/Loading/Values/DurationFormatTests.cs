using ZtGateway.Policy.Loading;

namespace ZtGateway.Policy.Tests.Loading.Values;

public sealed class DurationFormatTests
{
    [Theory]
    [InlineData(0, "0s")]
    [InlineData(1, "1ms")]
    [InlineData(500, "500ms")]
    [InlineData(1_000, "1s")]
    [InlineData(1_500, "1500ms")]
    [InlineData(30_000, "30s")]
    [InlineData(60_000, "1m")]
    [InlineData(60_500, "60500ms")]
    [InlineData(90_000, "90s")]
    [InlineData(900_000, "15m")]
    [InlineData(3_600_000, "1h")]
    [InlineData(5_400_000, "90m")]
    [InlineData(43_200_000, "12h")]
    [InlineData(129_600_000, "36h")]
    [InlineData(172_800_000, "2d")]
    [InlineData(604_800_000, "7d")]
    [InlineData(999_999_999, "999999999ms")]
    [InlineData(1_000_000_001, "11d13h46m40s1ms")]
    [InlineData(2_592_000_001, "30d1ms")]
    [InlineData(1_000_000_000_000, "11574d1h46m40s")]
    public void Format_WritesTheLargestExactUnit_OrACompoundWhereOneNumberWouldBeTooLong(long milliseconds, string expected)
    {
        var value = TimeSpan.FromMilliseconds(milliseconds);

        var text = Durations.Format(value);

        Assert.Equal(expected, text);
        Assert.True(Durations.TryParse(text, out var back));
        Assert.Equal(value, back);
    }

    [Fact]
    public void Format_ParsesBackExactly_ForValuesOfEveryMagnitude()
    {
        var random = new Random(20260601);
        var values = new List<TimeSpan> { TimeSpan.Zero, WholeMilliseconds(TimeSpan.MaxValue) };
        foreach (var unit in new[] { 1L, 1_000, 60_000, 3_600_000, 86_400_000, 999_999_999, 1_000_000_000 })
        {
            values.Add(TimeSpan.FromMilliseconds(unit - 1));
            values.Add(TimeSpan.FromMilliseconds(unit));
            values.Add(TimeSpan.FromMilliseconds(unit + 1));
        }

        var maxMilliseconds = TimeSpan.MaxValue.Ticks / TimeSpan.TicksPerMillisecond;
        for (var i = 0; i < 20_000; i++)
        {
            // Spread over every magnitude, from a millisecond up to the largest TimeSpan, and over exact multiples of each unit.
            var magnitude = random.Next(0, 64);
            var milliseconds = magnitude == 0 ? 0 : random.NextInt64(0, Math.Min(maxMilliseconds, 1L << Math.Min(magnitude, 62)));
            var unit = new[] { 1L, 1_000, 60_000, 3_600_000, 86_400_000 }[random.Next(0, 5)];
            values.Add(TimeSpan.FromMilliseconds(milliseconds / unit * unit));
        }

        foreach (var value in values)
        {
            var text = Durations.Format(value);
            Assert.True(Durations.TryParse(text, out var back), $"'{text}' (from {value.Ticks} ticks) does not parse");
            Assert.Equal(value, back);
        }
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(-TimeSpan.TicksPerMinute)]
    [InlineData(1)]
    [InlineData(TimeSpan.TicksPerMillisecond + 1)]
    [InlineData(TimeSpan.TicksPerSecond + TimeSpan.TicksPerMillisecond / 2)]
    public void Format_Throws_ForWhatTheSyntaxCannotWrite(long ticks)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Durations.Format(TimeSpan.FromTicks(ticks)));
    }

    private static TimeSpan WholeMilliseconds(TimeSpan value) =>
        TimeSpan.FromTicks(value.Ticks - (value.Ticks % TimeSpan.TicksPerMillisecond));
}
