using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.IdentityModel.Tokens;

namespace ZtGateway.Fuzz;

/// <summary>
/// The key sets the credential targets trust: an RSA key (kid <c>fuzz-rsa</c>) and an EC P-256 key (kid <c>fuzz-ec</c>),
/// made afresh in each process. Only the public halves are kept, written as a JWKS file: no input, and no seed, can carry
/// a valid signature, so every outcome a target sees must be a refusal.
/// </summary>
internal static class TrustedKeys
{
    public const string RsaKeyId = "fuzz-rsa";
    public const string EcKeyId = "fuzz-ec";

    /// <summary>Writes the key set to <paramref name="relativePath"/> in <paramref name="folder"/> and returns its path.</summary>
    public static string WriteJwks(ScratchFolder folder, string relativePath)
    {
        using var rsa = RSA.Create(2048);
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var rsaPublic = rsa.ExportParameters(includePrivateParameters: false);
        var ecPublic = ec.ExportParameters(includePrivateParameters: false);
        var keys = new object[]
        {
            new Dictionary<string, string>
            {
                ["kty"] = "RSA", ["kid"] = RsaKeyId, ["use"] = "sig", ["alg"] = SecurityAlgorithms.RsaSha256,
                ["n"] = Base64UrlEncoder.Encode(rsaPublic.Modulus), ["e"] = Base64UrlEncoder.Encode(rsaPublic.Exponent),
            },
            new Dictionary<string, string>
            {
                ["kty"] = "EC", ["kid"] = EcKeyId, ["use"] = "sig", ["alg"] = SecurityAlgorithms.EcdsaSha256, ["crv"] = "P-256",
                ["x"] = Base64UrlEncoder.Encode(ecPublic.Q.X), ["y"] = Base64UrlEncoder.Encode(ecPublic.Q.Y),
            },
        };
        return folder.Write(relativePath, JsonSerializer.Serialize(new { keys }));
    }
}
