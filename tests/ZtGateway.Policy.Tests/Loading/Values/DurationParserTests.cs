using ZtGateway.Policy.Loading.Values;

namespace ZtGateway.Policy.Tests.Loading.Values;

public sealed class DurationParserTests
{
    [Theory]
    [InlineData("30s", 30_000)]
    [InlineData("15m", 900_000)]
    [InlineData("12h", 43_200_000)]
    [InlineData("7d", 604_800_000)]
    [InlineData("500ms", 500)]
    [InlineData("1h30m", 5_400_000)]
    [InlineData("1m500ms", 60_500)]
    [InlineData("0s", 0)]
    [InlineData("0", 0)]
    public void Parses_ValidDuration(string text, long milliseconds)
    {
        Assert.True(DurationParser.TryParse(text, out var value));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("30")]
    [InlineData("s")]
    [InlineData("1.5h")]
    [InlineData("-5m")]
    [InlineData("30m1h")]
    [InlineData("1h1h")]
    [InlineData("15 m")]
    [InlineData("15min")]
    [InlineData("PT15M")]
    [InlineData("1w")]
    [InlineData("9999999999d")]
    [InlineData("999999999d999999999d")]
    public void Rejects_InvalidDuration(string text)
    {
        Assert.False(DurationParser.TryParse(text, out _));
    }
}
