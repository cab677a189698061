namespace ZtGateway.Policy.Loading.Values;

/// <summary>Rules for names that appear in URLs, logs and assertions (segments, services).</summary>
internal static class Names
{
    /// <summary>The reserved segment of callers that no segment claims.</summary>
    public const string UnknownSegment = "unknown";

    /// <summary>The <c>from</c> entry that stands for every source segment.</summary>
    public const string AnySegment = "*";

    /// <summary>How a valid name looks, for messages.</summary>
    public const string Hint = "use lower-case letters, digits and '-', starting with a letter";

    /// <summary><c>^[a-z][a-z0-9-]*$</c>.</summary>
    public static bool IsValid(string name) =>
        name.Length > 0 && char.IsAsciiLetterLower(name[0]) && name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-');
}
