using System.Buffers.Text;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace ZtGateway.Sources.Identity;

/// <summary>
/// Reads the confirmation claim of a verified token (RFC 7800 <c>cnf</c>, RFC 8705 section 3.1): the SHA-256
/// thumbprint of the client certificate the token is bound to. Only <c>x5t#S256</c> can be checked here; a token bound
/// by any other method cannot be honoured and is refused rather than taken as a bearer token.
/// </summary>
internal static class TokenConfirmation
{
    /// <summary>The confirmation claim.</summary>
    public const string Claim = "cnf";

    /// <summary>The confirmation method of RFC 8705: base64url SHA-256 of the DER certificate.</summary>
    public const string CertificateThumbprint = "x5t#S256";

    // base64url without padding of 32 bytes.
    private const int ThumbprintLength = 43;

    /// <summary>Reads <c>cnf</c> from the payload of <paramref name="token"/>, whose signature is already verified.</summary>
    /// <param name="token">The verified token.</param>
    /// <param name="thumbprint">The <c>x5t#S256</c> value (in canonical base64url), or null when the token has no <c>cnf</c>.</param>
    /// <returns>Null when the claim is absent or well formed; else why the token is refused (for logs).</returns>
    public static string? Read(JsonWebToken token, out string? thumbprint)
    {
        ArgumentNullException.ThrowIfNull(token);
        thumbprint = null;

        // The payload is read again, as JSON, so that a repeated member or a nested shape is seen as written: the
        // claim set of the token handler keeps one value per name and flattens objects.
        // Decoded as the token handler decoded it, so that these are the very bytes whose signature was verified.
        byte[] payload;
        try
        {
            payload = Base64UrlEncoder.DecodeBytes(token.EncodedPayload);
        }
        catch (FormatException)
        {
            return "payload is not base64url";
        }

        try
        {
            using var document = JsonDocument.Parse(payload);
            JsonElement? cnf = null;
            foreach (var member in document.RootElement.EnumerateObject())
            {
                if (member.NameEquals(Claim))
                {
                    if (cnf is not null)
                    {
                        return "cnf is written twice";
                    }

                    cnf = member.Value;
                }
            }

            return cnf is { } value ? ReadConfirmation(value, out thumbprint) : null;
        }
        catch (JsonException)
        {
            return "payload is not JSON";
        }
    }

    private static string? ReadConfirmation(JsonElement cnf, out string? thumbprint)
    {
        thumbprint = null;
        if (cnf.ValueKind != JsonValueKind.Object)
        {
            return "cnf is not a JSON object";
        }

        string? found = null;
        foreach (var member in cnf.EnumerateObject())
        {
            if (!member.NameEquals(CertificateThumbprint))
            {
                continue;
            }

            if (found is not null)
            {
                return "cnf x5t#S256 is written twice";
            }

            if (member.Value.ValueKind != JsonValueKind.String || Canonical(member.Value.GetString()) is not { } canonical)
            {
                return "cnf x5t#S256 is not a base64url SHA-256 thumbprint (43 characters)";
            }

            found = canonical;
        }

        if (found is null)
        {
            // jkt (DPoP), jwk, kid, ...: a binding the gateway cannot check; honouring it as a bearer token would void it.
            return "cnf has no x5t#S256; other confirmation methods are not supported";
        }

        thumbprint = found;
        return null;
    }

    /// <summary>
    /// The thumbprint in its canonical spelling, or null when <paramref name="text"/> is not 43 base64url characters
    /// (no padding). The two spare bits of the last character are not looked at: the 32 bytes are what binds.
    /// </summary>
    internal static string? Canonical(string? text)
    {
        if (text is not { Length: ThumbprintLength })
        {
            return null;
        }

        // Decoded by hand: the platform's decoder refuses spare bits that are set, and RFC 8705's own example sets them.
        Span<byte> bytes = stackalloc byte[32];
        int buffer = 0, bits = 0, written = 0;
        foreach (var c in text)
        {
            var value = c switch
            {
                >= 'A' and <= 'Z' => c - 'A',
                >= 'a' and <= 'z' => c - 'a' + 26,
                >= '0' and <= '9' => c - '0' + 52,
                '-' => 62,
                '_' => 63,
                _ => -1,
            };
            if (value < 0)
            {
                return null;
            }

            buffer = (buffer << 6) | value;
            bits += 6;
            if (bits >= 8)
            {
                bits -= 8;
                bytes[written++] = (byte)(buffer >> bits);
                buffer &= (1 << bits) - 1;
            }
        }

        return Base64Url.EncodeToString(bytes);
    }

    /// <summary>The <c>x5t#S256</c> of a DER certificate: base64url, without padding, of its SHA-256.</summary>
    public static string ThumbprintOf(ReadOnlySpan<byte> certificateDer)
    {
        Span<byte> hash = stackalloc byte[32];
        System.Security.Cryptography.SHA256.HashData(certificateDer, hash);
        return Base64Url.EncodeToString(hash);
    }
}
