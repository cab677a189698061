using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Loading;

namespace ZtGateway.Policy.Tests.Loading;

/// <summary><c>device.certificates</c>: the CA whose client certificates name devices, and which name; every error with its line.</summary>
public sealed class DeviceCertificateLoadingTests : IDisposable
{
    private const string Jwks = """{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}""";

    // Lines 1 to 7 are the issuer; device: is line 8, certificates: line 9, its first key line 10.
    private const string Device = PolicySamples.JwksIssuer + """
        device:
          certificates:

        """;

    private readonly PolicyFolder _folder = PolicySamples.Minimal()
        .Write("keys/idp.jwks.json", Jwks)
        .Write("keys/gateway-signing.pem", "-----BEGIN PRIVATE KEY-----\nMIG\n-----END PRIVATE KEY-----\n");

    public DeviceCertificateLoadingTests()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=MDM device CA", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var ca = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        _folder.Write("certs/mdm-ca.pem", ca.ExportCertificatePem() + "\n");
    }

    public void Dispose() => _folder.Dispose();

    private PolicyLoadResult LoadDevice(string keys)
    {
        _folder.Write("gateway.yaml", Device + keys);
        return _folder.LoadWithKeyFiles();
    }

    private IReadOnlyList<string> Errors(PolicyLoadResult result)
    {
        Assert.False(result.Succeeded, "the policy loaded");
        return [.. _folder.Format(result).Where(l => l.Contains(": error: ", StringComparison.Ordinal))];
    }

    [Fact]
    public void Absent_NoCertificateNamesADevice()
    {
        _folder.Write("gateway.yaml", PolicySamples.JwksIssuer + "device:\n  header: X-Device-Posture\n");

        var result = _folder.LoadWithKeyFiles();

        Assert.True(result.Succeeded, _folder.FormatAll(result));
        Assert.Null(result.Policy!.Gateway.Device.Certificates);
    }

    [Fact]
    public void CaOnly_NamesTheDeviceByItsUriSan()
    {
        var result = LoadDevice("    ca: certs/mdm-ca.pem\n");

        Assert.True(result.Succeeded, _folder.FormatAll(result));
        var certificates = result.Policy!.Gateway.Device.Certificates;
        Assert.NotNull(certificates);
        Assert.Equal(_folder.PathOf("certs/mdm-ca.pem"), certificates.Ca.Path);
        Assert.Equal((10, 9), (certificates.Ca.Location.Line, certificates.Ca.Location.Column));
        Assert.Equal(DeviceIdSource.Uri, certificates.IdFrom);
        Assert.Equal((10, 5), (certificates.Location.Line, certificates.Location.Column));
    }

    [Theory]
    [InlineData("uri", DeviceIdSource.Uri)]
    [InlineData("dns", DeviceIdSource.Dns)]
    [InlineData("cn", DeviceIdSource.Cn)]
    public void IdFrom_IsMapped(string written, DeviceIdSource expected)
    {
        var result = LoadDevice("    ca: certs/mdm-ca.pem\n    idFrom: " + written + "\n");

        Assert.True(result.Succeeded, _folder.FormatAll(result));
        Assert.Equal(expected, result.Policy!.Gateway.Device.Certificates!.IdFrom);
    }

    [Fact]
    public void BesideTheOtherDeviceKeys_EveryFieldIsMapped()
    {
        _folder.Write("gateway.yaml", PolicySamples.JwksIssuer + """
            device:
              header: X-Posture
              audience: gw
              maxAge: 5m
              certificates:
                ca: certs/mdm-ca.pem
                idFrom: dns

            """);

        var result = _folder.LoadWithKeyFiles();

        Assert.True(result.Succeeded, _folder.FormatAll(result));
        var device = result.Policy!.Gateway.Device;
        Assert.Equal("X-Posture", device.Header);
        Assert.Equal("gw", device.Audience);
        Assert.Equal(TimeSpan.FromMinutes(5), device.MaxAge);
        Assert.Equal(_folder.PathOf("certs/mdm-ca.pem"), device.Certificates!.Ca.Path);
        Assert.Equal(DeviceIdSource.Dns, device.Certificates.IdFrom);
    }

    public static TheoryData<string, string> SectionErrors => new()
    {
        { "    idFrom: uri\n", "gateway.yaml:10:5: error: missing required key 'ca' in 'device.certificates'" },
        { "    ca:\n", "gateway.yaml:10:5: error: missing value for 'ca' in 'device.certificates'" },
        { "    ca: \"\"\n", "gateway.yaml:10:9: error: 'device.certificates.ca' must not be empty" },
        { "    ca: [certs/mdm-ca.pem]\n", "gateway.yaml:10:9: error: 'device.certificates.ca' must be a single value, not a list" },
        { "    ca: certs/mdm-ca.pem\n    idFrom: san\n", "gateway.yaml:11:13: error: 'device.certificates.idFrom' must be uri, dns or cn, not 'san'" },
        { "    ca: certs/mdm-ca.pem\n    idFrom: URI\n", "gateway.yaml:11:13: error: 'device.certificates.idFrom' must be uri, dns or cn, not 'URI'" },
        { "    ca: certs/mdm-ca.pem\n    crl: certs/mdm.crl\n", "gateway.yaml:11:5: error: unknown key 'crl' in 'device.certificates'" },
        { "    - certs/mdm-ca.pem\n", "gateway.yaml:10:5: error: 'device.certificates' must be a mapping, not a list" },
    };

    [Theory]
    [MemberData(nameof(SectionErrors))]
    public void BadSection_IsAnErrorAtTheLineOfTheBadValue(string keys, string expected)
    {
        Assert.Equal([expected], Errors(LoadDevice(keys)));
    }

    [Fact]
    public void MissingCaFile_IsAnErrorAtItsLine()
    {
        _folder.Delete("certs/mdm-ca.pem");

        Assert.Equal(
            ["gateway.yaml:10:9: error: device.certificates.ca 'certs/mdm-ca.pem' does not exist"],
            Errors(LoadDevice("    ca: certs/mdm-ca.pem\n")));
    }

    [Theory]
    [InlineData("not a certificate\n", "holds no PEM certificate (-----BEGIN CERTIFICATE-----)")]
    [InlineData("-----BEGIN PRIVATE KEY-----\nMIG\n-----END PRIVATE KEY-----\n", "holds no PEM certificate (-----BEGIN CERTIFICATE-----)")]
    [InlineData("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n", "is not a PEM certificate file: ")]
    public void CaFileThatHoldsNoCertificate_IsAnError(string content, string problem)
    {
        _folder.Write("certs/mdm-ca.pem", content);

        var error = Assert.Single(Errors(LoadDevice("    ca: certs/mdm-ca.pem\n")));

        Assert.StartsWith($"gateway.yaml:10:9: error: device.certificates.ca 'certs/mdm-ca.pem' {problem}", error, StringComparison.Ordinal);
    }

    [Fact]
    public void CaFile_IsNotOpenedWhenKeyFilesAreSkipped()
    {
        _folder.Delete("certs/mdm-ca.pem");
        _folder.Write("gateway.yaml", Device + "    ca: certs/mdm-ca.pem\n");

        var result = _folder.Load();

        Assert.True(result.Succeeded, _folder.FormatAll(result));
    }

    [Fact]
    public void NoListenerAsksForClientCertificates_IsAWarning()
    {
        var result = LoadDevice("    ca: certs/mdm-ca.pem\n");

        Assert.True(result.Succeeded, _folder.FormatAll(result));
        Assert.Equal(
            ["gateway.yaml:10:5: warning: 'device.certificates' is set, but no segment listener asks for client certificates " +
             "(tls.clientCertificates), so no certificate will name a device"],
            _folder.Format(result));
    }

    [Fact]
    public void AListenerThatAsksForClientCertificates_SilencesTheWarning()
    {
        _folder.Write("segments/hr.yaml", PolicySamples.MinimalHr.Replace(
            "listen: http://127.0.0.1:8082\n",
            "listen: https://127.0.0.1:8443\ntls:\n  certificate: certs/hr.pem\n  key: certs/hr.key\n  clientCertificates: optional\n  clientCA: certs/mdm-ca.pem\n",
            StringComparison.Ordinal));
        _folder.Write("gateway.yaml", Device + "    ca: certs/mdm-ca.pem\n");

        var result = _folder.Load();

        Assert.True(result.Succeeded, _folder.FormatAll(result));
        Assert.Empty(result.Diagnostics);
    }
}
