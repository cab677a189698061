using ZtGateway.Policy.Loading.Values;

namespace ZtGateway.Policy.Loading;

/// <summary>The duration syntax of the policy files (<c>500ms</c>, <c>30s</c>, <c>15m</c>, <c>12h</c>, <c>7d</c>, <c>1h30m</c>), for command-line options too.</summary>
public static class Durations
{
    /// <summary>Parses a duration; false for anything else.</summary>
    public static bool TryParse(string text, out TimeSpan value) => DurationParser.TryParse(text, out value);
}
