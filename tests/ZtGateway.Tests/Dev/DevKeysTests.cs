using System.Text.Json;
using Microsoft.IdentityModel.Tokens;
using ZtGateway.DevTools;

namespace ZtGateway.Tests.Dev;

public sealed class DevKeysTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("ztgw-devkeys-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void CreateRsa_Writes_PrivatePemAndPublicJwks()
    {
        var (pem, jwks) = Paths("idp");

        DevKeys.CreateRsa(pem, jwks, overwrite: false);

        Assert.StartsWith("-----BEGIN PRIVATE KEY-----", File.ReadAllText(pem), StringComparison.Ordinal);
        var key = Assert.Single(new JsonWebKeySet(File.ReadAllText(jwks)).Keys);
        Assert.Equal("RSA", key.Kty);
        Assert.Equal("RS256", key.Alg);
        Assert.Equal("sig", key.Use);
        Assert.Equal(Base64UrlEncoder.Encode(key.ComputeJwkThumbprint()), key.Kid);
        Assert.Equal(2048, Base64UrlEncoder.DecodeBytes(key.N).Length * 8);
        Assert.False(key.HasPrivateKey);
        AssertNoPrivateMembers(jwks);
    }

    [Fact]
    public void CreateEc_Writes_P256KeyForEs256()
    {
        var (pem, jwks) = Paths("posture");

        DevKeys.CreateEc(pem, jwks, overwrite: false);

        var key = Assert.Single(new JsonWebKeySet(File.ReadAllText(jwks)).Keys);
        Assert.Equal("EC", key.Kty);
        Assert.Equal("P-256", key.Crv);
        Assert.Equal("ES256", key.Alg);
        Assert.Equal(Base64UrlEncoder.Encode(key.ComputeJwkThumbprint()), key.Kid);
        AssertNoPrivateMembers(jwks);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Restricts_PrivateKey_ToOwner(bool rsa)
    {
        if (OperatingSystem.IsWindows())
        {
            return; // Unix file modes only
        }

        var (pem, jwks) = Paths("idp");

        if (rsa)
        {
            DevKeys.CreateRsa(pem, jwks, overwrite: false);
        }
        else
        {
            DevKeys.CreateEc(pem, jwks, overwrite: false);
        }

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(pem));
    }

    [Fact]
    public void Refuses_ToOverwrite_UnlessAsked()
    {
        var (pem, jwks) = Paths("idp");
        DevKeys.CreateRsa(pem, jwks, overwrite: false);
        var firstPem = File.ReadAllText(pem);
        var firstJwks = File.ReadAllText(jwks);

        Assert.Throws<IOException>(() => DevKeys.CreateRsa(pem, jwks, overwrite: false));
        Assert.Throws<IOException>(() => DevKeys.CreateEc(pem, jwks, overwrite: false));
        Assert.Equal(firstPem, File.ReadAllText(pem));
        Assert.Equal(firstJwks, File.ReadAllText(jwks));

        DevKeys.CreateRsa(pem, jwks, overwrite: true);
        Assert.NotEqual(firstPem, File.ReadAllText(pem));
        Assert.NotEqual(firstJwks, File.ReadAllText(jwks));
        Assert.Equal(2, Directory.GetFiles(_directory).Length);
    }

    [Fact]
    public void Refuses_WhenOnlyTheJwksExists()
    {
        var (pem, jwks) = Paths("idp");
        File.WriteAllText(jwks, "{}");

        Assert.Throws<IOException>(() => DevKeys.CreateRsa(pem, jwks, overwrite: false));
        Assert.False(File.Exists(pem));
    }

    [Theory]
    [InlineData("keys/idp.jwks.json", "keys/idp.key.pem")]
    [InlineData("idp.jwks.json", "idp.key.pem")]
    [InlineData("/etc/ztgw/keys/posture.JWKS.json", "/etc/ztgw/keys/posture.key.pem")]
    [InlineData("keys/idp.json", "keys/idp.key.pem")]
    [InlineData("keys/idp", "keys/idp.key.pem")]
    public void Derives_PrivateKeyPath_FromJwksPath(string jwks, string expected)
    {
        Assert.Equal(expected, DevKeys.PrivateKeyPathFor(jwks));
    }

    [Theory]
    [InlineData(true, "RS256")]
    [InlineData(false, "ES256")]
    public void Loads_SigningCredentials_WithTheJwksKid(bool rsa, string algorithm)
    {
        var (pem, jwks) = Paths("k");
        if (rsa)
        {
            DevKeys.CreateRsa(pem, jwks, overwrite: false);
        }
        else
        {
            DevKeys.CreateEc(pem, jwks, overwrite: false);
        }

        var credentials = DevKeys.LoadSigningCredentials(pem);

        Assert.Equal(algorithm, credentials.Algorithm);
        Assert.Equal(new JsonWebKeySet(File.ReadAllText(jwks)).Keys[0].Kid, credentials.Key.KeyId);
    }

    [Fact]
    public void Refuses_ToLoad_AFileWithoutAKey()
    {
        var path = Path.Join(_directory, "empty.key.pem");
        File.WriteAllText(path, "nothing here");

        Assert.Throws<InvalidDataException>(() => DevKeys.LoadSigningCredentials(path));
    }

    private (string Pem, string Jwks) Paths(string name)
    {
        var jwks = Path.Join(_directory, name + ".jwks.json");
        return (DevKeys.PrivateKeyPathFor(jwks), jwks);
    }

    private static void AssertNoPrivateMembers(string jwksPath)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(jwksPath));
        foreach (var key in document.RootElement.GetProperty("keys").EnumerateArray())
        {
            foreach (var member in new[] { "d", "p", "q", "dp", "dq", "qi" })
            {
                Assert.False(key.TryGetProperty(member, out _), $"JWKS leaks private member '{member}'");
            }
        }
    }
}
