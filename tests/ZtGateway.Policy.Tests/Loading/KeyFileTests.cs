namespace ZtGateway.Policy.Tests.Loading;

/// <summary>
/// A gateway start never writes keys: a trust file that is missing, unreadable or not a key set is a load error at
/// the line that names it, like any other bad value.
/// </summary>
public sealed class KeyFileTests : IDisposable
{
    private const string Jwks = """{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}""";
    private const string SigningKey = "-----BEGIN PRIVATE KEY-----\nMIG\n-----END PRIVATE KEY-----\n";

    private readonly PolicyFolder _folder = PolicySamples.Minimal()
        .Write("keys/idp.jwks.json", Jwks)
        .Write("keys/gateway-signing.pem", SigningKey);

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void AllKeyFilesPresent_Loads()
    {
        var result = _folder.LoadWithKeyFiles();

        Assert.True(result.Succeeded, _folder.FormatAll(result));
    }

    [Fact]
    public void MissingIssuerJwks_IsAnErrorAtItsLine_AndNothingIsWritten()
    {
        _folder.Delete("keys/idp.jwks.json");

        var result = _folder.LoadWithKeyFiles();

        Assert.False(result.Succeeded);
        var error = Assert.Single(_folder.Format(result));
        Assert.StartsWith("gateway.yaml:6:", error, StringComparison.Ordinal);
        Assert.Contains("issuer 'corp': jwksFile 'keys/idp.jwks.json' does not exist", error, StringComparison.Ordinal);
        Assert.Contains("ztgw dev keys", error, StringComparison.Ordinal);
        Assert.False(File.Exists(_folder.PathOf("keys/idp.jwks.json")));
        Assert.False(File.Exists(_folder.PathOf("keys/idp.key.pem")));
    }

    [Theory]
    [InlineData("not json", "is not a JWKS document")]
    [InlineData("[1, 2]", "is not a JWKS document (a JSON object with a \"keys\" array)")]
    [InlineData("""{"keys": []}""", "is a JWKS document with no keys")]
    [InlineData("""{"kty": "EC"}""", "is not a JWKS document (a JSON object with a \"keys\" array)")]
    public void BrokenIssuerJwks_IsAnError(string content, string expected)
    {
        _folder.Write("keys/idp.jwks.json", content);

        var result = _folder.LoadWithKeyFiles();

        var error = Assert.Single(_folder.Format(result));
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public void JwksThatIsAFolder_IsAnError()
    {
        _folder.Delete("keys/idp.jwks.json");
        Directory.CreateDirectory(_folder.PathOf("keys/idp.jwks.json"));

        var error = Assert.Single(_folder.Format(_folder.LoadWithKeyFiles()));

        Assert.Contains("is a folder, not a file", error, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingPostureAndSignalKeySets_AreErrorsAtTheirLines()
    {
        _folder.Write("gateway.yaml", PolicySamples.MinimalGateway + """
            device:
              issuers:
                - issuer: https://posture.example
                  jwksFile: keys/posture.jwks.json
            signals:
              transmitters:
                - issuer: https://signals.example
                  jwksFile: keys/signals.jwks.json
                  audience: ztgw

            """);

        var errors = _folder.Format(_folder.LoadWithKeyFiles());

        Assert.Equal(2, errors.Count);
        Assert.Contains(errors, e => e.StartsWith("gateway.yaml:11:", StringComparison.Ordinal) && e.Contains("device issuer 'https://posture.example': jwksFile 'keys/posture.jwks.json' does not exist", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("gateway.yaml:15:", StringComparison.Ordinal) && e.Contains("signal transmitter 'https://signals.example': jwksFile 'keys/signals.jwks.json' does not exist", StringComparison.Ordinal));
    }

    [Fact]
    public void MissingSigningKey_IsAnError_NeverCreated()
    {
        _folder.Delete("keys/gateway-signing.pem");

        var error = Assert.Single(_folder.Format(_folder.LoadWithKeyFiles()));

        Assert.Contains("assertion.signingKeyFile 'keys/gateway-signing.pem' does not exist", error, StringComparison.Ordinal);
        Assert.False(File.Exists(_folder.PathOf("keys/gateway-signing.pem")));
    }

    [Fact]
    public void SigningKeyThatIsNoPrivateKey_IsAnError()
    {
        _folder.Write("keys/gateway-signing.pem", Jwks);

        var error = Assert.Single(_folder.Format(_folder.LoadWithKeyFiles()));

        Assert.Contains("assertion.signingKeyFile 'keys/gateway-signing.pem' is not a PEM private key", error, StringComparison.Ordinal);
    }

    [Fact]
    public void SkippingKeyFiles_LoadsWithoutThem()
    {
        _folder.Delete("keys/idp.jwks.json").Delete("keys/gateway-signing.pem");

        var result = _folder.Load();

        Assert.True(result.Succeeded, _folder.FormatAll(result));
    }
}
