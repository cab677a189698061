using System.Security.Cryptography;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using ZtGateway.DevTools;
using ZtGateway.Enforcement.Assertion;
using ZtGateway.KeySets;
using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Engine;

namespace ZtGateway.Tests.KeySets;

/// <summary>The one writer of public key sets: RFC 7638 key ids, the members and their order, the file format.</summary>
public sealed class JsonWebKeySetWriterTests : IDisposable
{
    // RFC 7638 section 3.1: the example RSA key and its thumbprint.
    private const string RfcModulus =
        "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
    private const string RfcExponent = "AQAB";
    private const string RfcThumbprint = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";

    private readonly string _directory = Directory.CreateTempSubdirectory("ztgw-keyset-writer-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Thumbprint_OfTheRfc7638Example_IsTheRfcValue()
    {
        var key = new RsaSecurityKey(RfcParameters());

        Assert.Equal(RfcThumbprint, JsonWebKeySetWriter.Thumbprint(key));
        Assert.Equal(RfcThumbprint, JsonWebKeySetWriter.PublicJwk(key, SecurityAlgorithms.RsaSha256)["kid"]);
    }

    [Fact]
    public void DevKeys_KeyId_OfTheRfc7638Example_IsTheRfcValue()
    {
        using var rsa = RSA.Create();
        rsa.ImportParameters(RfcParameters());

        var jwk = DevKeys.PublicJwk(rsa);

        Assert.Equal(RfcThumbprint, jwk["kid"]);
        Assert.Equal((RfcModulus, RfcExponent), (jwk["n"], jwk["e"]));
    }

    [Fact]
    public void PublicJwk_OfAnRsaKey_HasTheRequiredMembersInOrder_ThenKidAlgUse_AndNoPrivatePart()
    {
        using var rsa = RSA.Create(2048);

        var jwk = JsonWebKeySetWriter.PublicJwk(new RsaSecurityKey(rsa), SecurityAlgorithms.RsaSha256);

        Assert.Equal(["e", "kty", "n", "kid", "alg", "use"], jwk.Keys);
        Assert.Equal(("RSA", "RS256", "sig"), (jwk["kty"], jwk["alg"], jwk["use"]));
        Assert.Equal(Base64UrlEncoder.Encode(rsa.ExportParameters(false).Modulus), jwk["n"]);
    }

    [Theory]
    [InlineData(256, "P-256")]
    [InlineData(384, "P-384")]
    [InlineData(521, "P-521")]
    public void PublicJwk_OfAnEcKey_HasTheRequiredMembersInOrder_ThenKidAlgUse(int size, string curve)
    {
        using var ecdsa = ECDsa.Create(size switch { 256 => ECCurve.NamedCurves.nistP256, 384 => ECCurve.NamedCurves.nistP384, _ => ECCurve.NamedCurves.nistP521 });

        var jwk = DevKeys.PublicJwk(ecdsa);

        Assert.Equal(["crv", "kty", "x", "y", "kid", "alg", "use"], jwk.Keys);
        Assert.Equal(curve, jwk["crv"]);
        var parsed = new JsonWebKey(System.Text.Json.JsonSerializer.Serialize(jwk));
        Assert.Equal(Base64UrlEncoder.Encode(parsed.ComputeJwkThumbprint()), jwk["kid"]);
        Assert.False(parsed.HasPrivateKey);
    }

    [Fact]
    public void DevKeys_JwksFile_KeepsItsFormat()
    {
        var jwks = Path.Join(_directory, "posture.jwks.json");
        DevKeys.CreateEc(DevKeys.PrivateKeyPathFor(jwks), jwks, overwrite: false);
        var key = Assert.Single(new JsonWebKeySet(File.ReadAllText(jwks)).Keys);

        // Indented, the RFC 7638 members first in their order, then kid, alg, use, and a final newline.
        var expected = "{\n  \"keys\": [\n    {\n"
            + $"      \"crv\": \"P-256\",\n      \"kty\": \"EC\",\n      \"x\": \"{key.X}\",\n      \"y\": \"{key.Y}\",\n"
            + $"      \"kid\": \"{key.Kid}\",\n      \"alg\": \"ES256\",\n      \"use\": \"sig\"\n"
            + "    }\n  ]\n}\n";
        Assert.Equal(expected, File.ReadAllText(jwks));
    }

    [Fact]
    public void GatewayAssertions_NameTheRfc7638ThumbprintOfThePublishedKey()
    {
        var settings = new AssertionSettings { SigningKeyFile = Path.Join(_directory, "signing.pem") };
        DevKeys.CreateSigningKey(settings.SigningKeyFile, overwrite: false);
        using var issuer = AssertionIssuer.Load(settings, new FakeTimeProvider());

        var published = Assert.Single(new JsonWebKeySet(issuer.JwksJson).Keys);
        var assertion = new JsonWebToken(issuer.Issue(new Decision { Allowed = true, Reason = ReasonCode.Allowed, DestinationSegment = "hr", Service = "payroll" },
            new Principal { Kind = PrincipalKind.User, Subject = "alice" }, null, "d-1"));

        Assert.Equal(Base64UrlEncoder.Encode(published.ComputeJwkThumbprint()), published.Kid);
        Assert.Equal(published.Kid, assertion.Kid);
        Assert.Equal(("EC", "P-256", "ES256", "sig"), (published.Kty, published.Crv, published.Alg, published.Use));
    }

    private static RSAParameters RfcParameters() => new()
    {
        Modulus = Base64UrlEncoder.DecodeBytes(RfcModulus),
        Exponent = Base64UrlEncoder.DecodeBytes(RfcExponent),
    };
}
