using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Loading;

namespace ZtGateway.Policy.Tests.Loading;

/// <summary>
/// The transport keys of a segment file (<c>protocols</c>, the listener's <c>tls</c>, a service's <c>tls</c>): each bad
/// value, and each TLS file that cannot be used, is an error at its line.
/// </summary>
public sealed class TlsLoadingTests : IDisposable
{
    private const string Jwks = """{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}""";

    private readonly PolicyFolder _folder = PolicySamples.Minimal()
        .Write("keys/idp.jwks.json", Jwks)
        .Write("keys/gateway-signing.pem", "-----BEGIN PRIVATE KEY-----\nMIG\n-----END PRIVATE KEY-----\n");

    public TlsLoadingTests()
    {
        using var ca = Pem.CreateCa("Test CA");
        using var server = Pem.Issue(ca, "hr.test", Pem.ServerAuth);
        using var client = Pem.Issue(ca, "gateway", Pem.ClientAuth);
        using var other = Pem.Issue(ca, "other.test", Pem.ServerAuth);
        Pem.WriteCertificate(_folder.PathOf("certs/ca.pem"), ca);
        Pem.WritePair(_folder.PathOf("certs/hr.pem"), _folder.PathOf("certs/hr.key"), server);
        Pem.WritePair(_folder.PathOf("certs/gw.pem"), _folder.PathOf("certs/gw.key"), client);
        Pem.WritePair(_folder.PathOf("certs/other.pem"), _folder.PathOf("certs/other.key"), other);
    }

    public void Dispose() => _folder.Dispose();

    private static string Hr(string listen, string extra, string service = "") => $$"""
        segment: hr
        listen: {{listen}}
        {{extra}}
        services:
          payroll:
            destinations: [https://127.0.0.1:7102]
        {{service}}
        routes:
          - id: payroll-read
            match: { path: "/payroll/{**rest}", methods: [GET] }
            service: payroll
            allow:
              - name: hr-staff
                from: [hr, finance]
                users: { groups: [hr-staff] }

        """;

    private const string Listener = "tls:\n  certificate: certs/hr.pem\n  key: certs/hr.key";

    private IReadOnlyList<string> Errors(string segment)
    {
        _folder.Write("segments/hr.yaml", segment);
        var result = _folder.LoadWithKeyFiles();
        Assert.False(result.Succeeded, "the policy loaded");
        return _folder.Format(result);
    }

    [Theory]
    [InlineData("", ListenerProtocols.Http1)]
    [InlineData("protocols: [http1]", ListenerProtocols.Http1)]
    [InlineData("protocols: [http2]", ListenerProtocols.Http2)]
    public void Protocols_OnAPlainListener(string line, ListenerProtocols expected)
    {
        _folder.Write("segments/hr.yaml", Hr("http://127.0.0.1:8082", line));

        var result = _folder.Load();

        Assert.True(result.Succeeded, _folder.FormatAll(result));
        Assert.Equal(expected, result.Policy!.Segments["hr"].Protocols);
    }

    [Theory]
    [InlineData("", ListenerProtocols.Http1AndHttp2)]
    [InlineData("protocols: [http1, http2]", ListenerProtocols.Http1AndHttp2)]
    [InlineData("protocols: [http2]", ListenerProtocols.Http2)]
    public void Protocols_OnATlsListener(string line, ListenerProtocols expected)
    {
        _folder.Write("segments/hr.yaml", Hr("https://127.0.0.1:8443", Listener + "\n" + line));

        var result = _folder.LoadWithKeyFiles();

        Assert.True(result.Succeeded, _folder.FormatAll(result));
        Assert.Equal(expected, result.Policy!.Segments["hr"].Protocols);
    }

    [Theory]
    [InlineData("protocols: []", "segments/hr.yaml:3:12: error: 'protocols' must name at least one protocol (http1, http2)")]
    [InlineData("protocols: [http3]", "segments/hr.yaml:3:13: error: protocol 'http3' in 'protocols' must be http1 or http2")]
    [InlineData("protocols: [HTTP2]", "segments/hr.yaml:3:13: error: protocol 'HTTP2' in 'protocols' must be http1 or http2")]
    [InlineData("protocols: [http1, http1]", "segments/hr.yaml:3:20: error: protocol 'http1' is listed twice in 'protocols'")]
    [InlineData("protocols: [http1, ~]", "segments/hr.yaml:3:20: error: 'protocols' has an empty entry")]
    [InlineData("protocols: http2", "segments/hr.yaml:3:12: error: 'protocols' must be a list, not a single value")]
    [InlineData("protocols: [http1, http2]",
        "segments/hr.yaml:3:12: error: 'protocols' [http1, http2] needs an https listen: a plain http listener serves either [http1] or [http2] (h2c with prior knowledge)")]
    public void BadProtocols_AreErrorsAtTheirLine(string line, string expected)
    {
        _folder.Write("segments/hr.yaml", Hr("http://127.0.0.1:8082", line));

        var result = _folder.Load();

        Assert.False(result.Succeeded);
        Assert.Equal(expected, Assert.Single(_folder.Format(result)));
    }

    [Fact]
    public void TlsListener_Loads_WithItsFilesAndDefaults()
    {
        _folder.Write("segments/hr.yaml", Hr("https://127.0.0.1:8443", Listener));

        var result = _folder.LoadWithKeyFiles();

        Assert.True(result.Succeeded, _folder.FormatAll(result));
        var tls = result.Policy!.Segments["hr"].Tls!;
        Assert.Equal(_folder.PathOf("certs/hr.pem"), tls.Certificate.Path);
        Assert.Equal(_folder.PathOf("certs/hr.key"), tls.Key.Path);
        Assert.Equal(ClientCertificateRequirement.None, tls.ClientCertificates);
        Assert.Null(tls.ClientCa);
        Assert.Equal(TlsMinimumVersion.Tls12, tls.MinVersion);
    }

    [Fact]
    public void TlsListener_WithEveryKey_Loads()
    {
        _folder.Write("segments/hr.yaml", Hr("https://127.0.0.1:8443",
            Listener + "\n  clientCertificates: required\n  clientCA: certs/ca.pem\n  minVersion: \"1.3\"",
            "    tls:\n      ca: certs/ca.pem\n      clientCertificate: certs/gw.pem\n      clientKey: certs/gw.key"));

        var result = _folder.LoadWithKeyFiles();

        Assert.True(result.Succeeded, _folder.FormatAll(result));
        var segment = result.Policy!.Segments["hr"];
        Assert.Equal(ClientCertificateRequirement.Required, segment.Tls!.ClientCertificates);
        Assert.Equal(_folder.PathOf("certs/ca.pem"), segment.Tls.ClientCa!.Path);
        Assert.Equal(TlsMinimumVersion.Tls13, segment.Tls.MinVersion);
        var upstream = segment.Services["payroll"].Tls!;
        Assert.Equal(_folder.PathOf("certs/ca.pem"), upstream.Ca!.Path);
        Assert.Equal(_folder.PathOf("certs/gw.key"), upstream.ClientKey!.Path);
    }

    [Fact]
    public void HttpsListen_WithoutTls_IsAnErrorAtTheListenLine()
    {
        var error = Assert.Single(Errors(Hr("https://127.0.0.1:8443", string.Empty)));

        Assert.Equal("segments/hr.yaml:2:9: error: listen 'https://127.0.0.1:8443' is https and needs a 'tls' section with 'certificate' and 'key'", error);
    }

    [Fact]
    public void Tls_UnderAnHttpListen_IsAnError()
    {
        var error = Assert.Single(Errors(Hr("http://127.0.0.1:8082", Listener)));

        Assert.Equal("segments/hr.yaml:3:1: error: 'tls' needs an https listen; listen 'http://127.0.0.1:8082' is plain http", error);
    }

    [Theory]
    [InlineData("\n  clientCertificates: sometimes\n  clientCA: certs/ca.pem", "segments/hr.yaml:6:23: error: 'tls.clientCertificates' must be none, optional or required, not 'sometimes'")]
    [InlineData("\n  clientCertificates: Required\n  clientCA: certs/ca.pem", "segments/hr.yaml:6:23: error: 'tls.clientCertificates' must be none, optional or required, not 'Required'")]
    [InlineData("\n  clientCertificates: optional",
        "segments/hr.yaml:6:23: error: 'tls.clientCA' is required when 'tls.clientCertificates' is optional: name the CA bundle client certificates must chain to")]
    [InlineData("\n  clientCertificates: required",
        "segments/hr.yaml:6:23: error: 'tls.clientCA' is required when 'tls.clientCertificates' is required: name the CA bundle client certificates must chain to")]
    [InlineData("\n  clientCA: certs/ca.pem",
        "segments/hr.yaml:6:13: error: 'tls.clientCA' is set but 'tls.clientCertificates' is none, so no client certificate is asked for; set it to optional or required, or remove 'tls.clientCA'")]
    [InlineData("\n  clientCertificates: none\n  clientCA: certs/ca.pem",
        "segments/hr.yaml:7:13: error: 'tls.clientCA' is set but 'tls.clientCertificates' is none, so no client certificate is asked for; set it to optional or required, or remove 'tls.clientCA'")]
    [InlineData("\n  minVersion: \"1.1\"", "segments/hr.yaml:6:15: error: 'tls.minVersion' must be 1.2 or 1.3, not '1.1'")]
    [InlineData("\n  minVersion: 1.20", "segments/hr.yaml:6:15: error: 'tls.minVersion' must be 1.2 or 1.3, not '1.20'")]
    [InlineData("\n  ciphers: [aes]", "segments/hr.yaml:6:3: error: unknown key 'ciphers' in 'tls'")]
    [InlineData("\n  clientCertificates: required\n  clientCA: certs/missing-ca.pem",
        "segments/hr.yaml:7:13: error: tls.clientCA 'certs/missing-ca.pem' does not exist (for development, 'ztgw dev certs --config <gateway.yaml>' creates the sample certificates)")]
    public void BadListenerTls_IsAnErrorAtItsLine(string extra, string expected)
    {
        Assert.Equal(expected, Assert.Single(Errors(Hr("https://127.0.0.1:8443", Listener + extra))));
    }

    [Fact]
    public void Tls_WithoutCertificateOrKey_IsAnError()
    {
        var errors = Errors(Hr("https://127.0.0.1:8443", "tls:\n  minVersion: \"1.2\""));

        Assert.Equal(
            ["segments/hr.yaml:4:3: error: missing required key 'certificate' in 'tls'", "segments/hr.yaml:4:3: error: missing required key 'key' in 'tls'"],
            errors);
    }

    [Fact]
    public void MissingCertificateFile_IsAnErrorAtItsLine()
    {
        _folder.Delete("certs/hr.pem");

        var error = Assert.Single(Errors(Hr("https://127.0.0.1:8443", Listener)));

        Assert.Equal("segments/hr.yaml:4:16: error: tls.certificate 'certs/hr.pem' " + TlsFiles.Missing, error);
    }

    [Fact]
    public void GarbageCertificate_IsAnError()
    {
        _folder.Write("certs/hr.pem", "not a certificate\n");

        var error = Assert.Single(Errors(Hr("https://127.0.0.1:8443", Listener)));

        Assert.Equal("segments/hr.yaml:4:16: error: tls.certificate 'certs/hr.pem' holds no PEM certificate (-----BEGIN CERTIFICATE-----)", error);
    }

    [Fact]
    public void KeyOfAnotherCertificate_IsAnErrorAtTheKeyLine()
    {
        File.Copy(_folder.PathOf("certs/other.key"), _folder.PathOf("certs/hr.key"), overwrite: true);

        var error = Assert.Single(Errors(Hr("https://127.0.0.1:8443", Listener)));

        Assert.Equal("segments/hr.yaml:5:8: error: tls.key 'certs/hr.key' does not match tls.certificate 'certs/hr.pem'", error);
    }

    [Fact]
    public void RsaKeyForAnEcCertificate_DoesNotMatch()
    {
        using var rsa = RSA.Create(2048);
        Pem.WriteKey(_folder.PathOf("certs/hr.key"), rsa.ExportRSAPrivateKeyPem());

        var error = Assert.Single(Errors(Hr("https://127.0.0.1:8443", Listener)));

        Assert.EndsWith("tls.key 'certs/hr.key' does not match tls.certificate 'certs/hr.pem'", error, StringComparison.Ordinal);
    }

    [Fact]
    public void WorldReadableKey_IsAnError()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // file modes are a Unix notion
        }

        File.SetUnixFileMode(_folder.PathOf("certs/hr.key"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        var error = Assert.Single(Errors(Hr("https://127.0.0.1:8443", Listener)));

        Assert.Equal("segments/hr.yaml:5:8: error: tls.key 'certs/hr.key' is readable by every user of the machine (mode 0644); restrict it, e.g. chmod 600", error);
    }

    [Fact]
    public void GroupReadableKey_IsAccepted()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // file modes are a Unix notion
        }

        File.SetUnixFileMode(_folder.PathOf("certs/hr.key"), UnixFileMode.UserRead | UnixFileMode.GroupRead);
        _folder.Write("segments/hr.yaml", Hr("https://127.0.0.1:8443", Listener));

        var result = _folder.LoadWithKeyFiles();

        Assert.True(result.Succeeded, _folder.FormatAll(result));
    }

    [Fact]
    public void EncryptedKey_IsAnError()
    {
        using var rsa = RSA.Create(2048);
        Pem.WriteKey(_folder.PathOf("certs/hr.key"),
            rsa.ExportEncryptedPkcs8PrivateKeyPem("secret", new PbeParameters(PbeEncryptionAlgorithm.Aes128Cbc, HashAlgorithmName.SHA256, 1000)));

        var error = Assert.Single(Errors(Hr("https://127.0.0.1:8443", Listener)));

        Assert.Contains("tls.key 'certs/hr.key' is an encrypted private key", error, StringComparison.Ordinal);
    }

    [Fact]
    public void ClientOnlyCertificate_OnAListener_IsAnError()
    {
        var error = Assert.Single(Errors(Hr("https://127.0.0.1:8443", "tls:\n  certificate: certs/gw.pem\n  key: certs/gw.key")));

        Assert.Equal("segments/hr.yaml:4:16: error: tls.certificate 'certs/gw.pem' is not for server authentication (its extended key usage lacks serverAuth)", error);
    }

    [Fact]
    public void KeyFilesSkipped_LoadsWithoutTheFiles()
    {
        _folder.Delete("certs/hr.pem").Delete("certs/hr.key");
        _folder.Write("segments/hr.yaml", Hr("https://127.0.0.1:8443", Listener));

        var result = _folder.Load();

        Assert.True(result.Succeeded, _folder.FormatAll(result));
    }

    [Theory]
    [InlineData("    tls:\n      clientCertificate: certs/gw.pem",
        "segments/hr.yaml:7:5: error: service 'payroll': 'tls.clientCertificate' and 'tls.clientKey' go together; 'tls.clientKey' is missing")]
    [InlineData("    tls:\n      clientKey: certs/gw.key",
        "segments/hr.yaml:7:5: error: service 'payroll': 'tls.clientCertificate' and 'tls.clientKey' go together; 'tls.clientCertificate' is missing")]
    [InlineData("    tls:\n      ca: certs/nowhere.pem",
        "segments/hr.yaml:8:11: error: service 'payroll': tls.ca 'certs/nowhere.pem' does not exist (for development, 'ztgw dev certs --config <gateway.yaml>' creates the sample certificates)")]
    [InlineData("    tls:\n      ca: certs/hr.key", "segments/hr.yaml:8:11: error: service 'payroll': tls.ca 'certs/hr.key' holds no PEM certificate (-----BEGIN CERTIFICATE-----)")]
    [InlineData("    tls:\n      clientCertificate: certs/gw.pem\n      clientKey: certs/hr.key",
        "segments/hr.yaml:9:18: error: service 'payroll': tls.clientKey 'certs/hr.key' does not match service 'payroll': tls.clientCertificate 'certs/gw.pem'")]
    [InlineData("    tls:\n      clientCertificate: certs/hr.pem\n      clientKey: certs/hr.key",
        "segments/hr.yaml:8:26: error: service 'payroll': tls.clientCertificate 'certs/hr.pem' is not for client authentication (its extended key usage lacks clientAuth)")]
    [InlineData("    tls:\n      verify: false", "segments/hr.yaml:8:7: error: service 'payroll': unknown key 'verify' in 'tls' of service 'payroll'")]
    [InlineData("    tls: on", "segments/hr.yaml:7:10: error: service 'payroll': 'tls' must be a mapping, not a single value")]
    public void BadServiceTls_IsAnErrorAtItsLine(string service, string expected)
    {
        Assert.Equal(expected, Assert.Single(Errors(Hr("http://127.0.0.1:8082", string.Empty, service))));
    }

    [Fact]
    public void ServiceTls_OnPlainHttpDestinations_IsAnError()
    {
        var segment = Hr("http://127.0.0.1:8082", string.Empty, "    tls:\n      ca: certs/ca.pem").Replace("https://127.0.0.1:7102", "http://127.0.0.1:7102", StringComparison.Ordinal);

        var error = Assert.Single(Errors(segment));

        Assert.Equal("segments/hr.yaml:7:5: error: service 'payroll': 'tls' applies to https destinations, and every destination of this service is plain http", error);
    }

    /// <summary>Certificates for the loader's checks, made here with <see cref="CertificateRequest"/>.</summary>
    private static class Pem
    {
        public const string ServerAuth = "1.3.6.1.5.5.7.3.1";
        public const string ClientAuth = "1.3.6.1.5.5.7.3.2";

        public static X509Certificate2 CreateCa(string name)
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
            return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        }

        public static X509Certificate2 Issue(X509Certificate2 ca, string name, string usage)
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(usage)], false));
            using var issued = request.Create(ca, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(7), RandomNumberGenerator.GetBytes(8));
            return issued.CopyWithPrivateKey(key);
        }

        public static void WriteCertificate(string path, X509Certificate2 certificate)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, certificate.ExportCertificatePem() + "\n");
        }

        public static void WritePair(string certificatePath, string keyPath, X509Certificate2 certificate)
        {
            WriteCertificate(certificatePath, certificate);
            using var key = certificate.GetECDsaPrivateKey()!;
            WriteKey(keyPath, key.ExportPkcs8PrivateKeyPem());
        }

        public static void WriteKey(string path, string pem)
        {
            File.WriteAllText(path, pem + "\n");
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
        }
    }
}
