using System.Text;
using Microsoft.IdentityModel.Tokens;

namespace ZtGateway.Fuzz;

/// <summary>How the credential targets read their bytes.</summary>
internal static class FuzzInput
{
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);

    /// <summary>The bytes as text, invalid UTF-8 replaced (as a header or body decoder would).</summary>
    public static string Text(ReadOnlySpan<byte> input) => Utf8.GetString(input);

    /// <summary>
    /// The compact JWT an input stands for. An input that starts with <c>{</c> is JSON: the JOSE header up to the
    /// first line break, the claims after it, joined as <c>base64url(header).base64url(claims).c2ln</c>, so that
    /// mutations reach the JSON readers instead of breaking the base64. Any other input is the compact text itself.
    /// </summary>
    public static string CompactToken(ReadOnlySpan<byte> input)
    {
        if (input.IsEmpty || input[0] != (byte)'{')
        {
            return Text(input);
        }

        var split = input.IndexOf((byte)'\n');
        var header = split < 0 ? input : input[..split];
        var claims = split < 0 ? [] : input[(split + 1)..];
        return Base64UrlEncoder.Encode(header.ToArray()) + "." + Base64UrlEncoder.Encode(claims.ToArray()) + ".c2ln";
    }
}
