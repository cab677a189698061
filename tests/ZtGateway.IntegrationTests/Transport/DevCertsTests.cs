using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using ZtGateway.Cli;
using ZtGateway.Hosting;
using ZtGateway.IntegrationTests.Infrastructure;

namespace ZtGateway.IntegrationTests.Transport;

/// <summary>
/// <c>ztgw dev certs</c> on a copy of the shipped config: what it writes (names, SANs, SVIDs, key modes), that it keeps
/// what exists unless told otherwise, and that the TLS variant in <c>config/tls/</c> is a valid policy with them and
/// serves real handshakes.
/// </summary>
public sealed class DevCertsTests : IDisposable
{
    private readonly string _directory = RepositoryFiles.CopyOfSampleConfig();

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string Config => Path.Combine(_directory, "gateway.yaml");

    private string TlsConfig => Path.Combine(_directory, "tls", "gateway.yaml");

    private string Certs(string name) => Path.Combine(_directory, "certs", name);

    private static async Task<(int Exit, string Output, string Errors)> ZtgwAsync(params string[] args)
    {
        var output = new StringWriter();
        var errors = new StringWriter();
        var exit = await ZtgwCommand.InvokeAsync(args, output, errors);
        return (exit, output.ToString(), errors.ToString());
    }

    [Fact]
    public async Task DevCerts_WritesTheSamplesMaterial_IntoCertsBesideTheConfig()
    {
        var (exit, output, errors) = await ZtgwAsync("dev", "certs", "--config", Config);

        Assert.True(exit == 0, errors);
        Assert.Contains("These certificates are for development only.", output, StringComparison.Ordinal);
        using var ca = X509CertificateLoader.LoadCertificateFromFile(Certs("dev-ca.pem"));
        using var clientCa = X509CertificateLoader.LoadCertificateFromFile(Certs("clients-ca.pem"));
        foreach (var segment in new[] { "engineering", "finance", "hr" })
        {
            using var server = X509CertificateLoader.LoadCertificateFromFile(Certs(segment + ".pem"));
            Assert.True(Chains(server, ca), segment);
            var names = server.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single();
            Assert.Equal(new[] { "localhost", segment }.Order(StringComparer.Ordinal), names.EnumerateDnsNames().Order(StringComparer.Ordinal));
            Assert.Equal([IPAddress.Loopback, IPAddress.IPv6Loopback], names.EnumerateIPAddresses());
            AssertOwnerOnly(Certs(segment + ".key"));
        }

        foreach (var (file, id) in new[]
        {
            ("hr-payroll-engine", "spiffe://corp.example/hr/payroll-engine"),
            ("finance-ledger-sync", "spiffe://corp.example/finance/ledger-sync"),
            ("engineering-ci-runner", "spiffe://corp.example/engineering/ci-runner"),
        })
        {
            using var svid = X509CertificateLoader.LoadCertificateFromFile(Certs(Path.Combine("workloads", file + ".pem")));
            Assert.True(Chains(svid, clientCa), file);
            Assert.Equal(id, UriName(svid));
            AssertOwnerOnly(Certs(Path.Combine("workloads", file + ".key")));
        }

        // hr-portal is a client id, not a SPIFFE id: it has no SVID.
        Assert.Equal(3, Directory.GetFiles(Certs("workloads"), "*.pem").Length);
        using var gateway = X509CertificateLoader.LoadCertificateFromFile(Certs("gateway-client.pem"));
        Assert.True(Chains(gateway, clientCa));
        AssertOwnerOnly(Certs("gateway-client.key"));
    }

    [Fact]
    public async Task DevCerts_KeepsWhatExists_UnlessForced()
    {
        Assert.Equal(0, (await ZtgwAsync("dev", "certs", "--config", Config)).Exit);
        var before = await File.ReadAllBytesAsync(Certs("hr.pem"));
        File.Delete(Certs("finance.pem"));
        File.Delete(Certs("finance.key"));

        var (exit, output, _) = await ZtgwAsync("dev", "certs", "--config", Config);

        Assert.Equal(0, exit);
        Assert.Equal(before, await File.ReadAllBytesAsync(Certs("hr.pem")));
        Assert.Contains("kept", output, StringComparison.Ordinal);
        using var ca = X509CertificateLoader.LoadCertificateFromFile(Certs("dev-ca.pem"));
        using var finance = X509CertificateLoader.LoadCertificateFromFile(Certs("finance.pem"));
        Assert.True(Chains(finance, ca), "a missing certificate is signed by the CA that was kept");

        Assert.Equal(0, (await ZtgwAsync("dev", "certs", "--config", Config, "--force")).Exit);
        Assert.NotEqual(before, await File.ReadAllBytesAsync(Certs("hr.pem")));
    }

    [Fact]
    public async Task DevCerts_RefusesAHalfPair_WithoutWritingAnything()
    {
        Directory.CreateDirectory(Certs(string.Empty));
        await File.WriteAllTextAsync(Certs("hr.pem"), "left over");

        var (exit, _, errors) = await ZtgwAsync("dev", "certs", "--config", Config);

        Assert.Equal(1, exit);
        Assert.Contains("hr.pem exists without", errors, StringComparison.Ordinal);
        Assert.False(File.Exists(Certs("dev-ca.pem")));
    }

    [Fact]
    public async Task DevCerts_AnotherFolder_WithOut()
    {
        var folder = Path.Combine(_directory, "elsewhere");

        Assert.Equal(0, (await ZtgwAsync("dev", "certs", "--config", Config, "--out", folder)).Exit);

        Assert.True(File.Exists(Path.Combine(folder, "hr.pem")));
        Assert.False(Directory.Exists(Certs(string.Empty)));
    }

    [Fact]
    public async Task TlsVariant_IsNotReadByTheSample_AndIsValidOnceKeysAndCertsExist()
    {
        Assert.Equal(0, (await ZtgwAsync("dev", "keys", "--config", Config)).Exit);
        var before = await ZtgwAsync("validate", "--config", TlsConfig);
        Assert.Equal(1, before.Exit);
        Assert.Contains("tls.certificate '../certs/hr.pem' does not exist", before.Errors, StringComparison.Ordinal);

        Assert.Equal(0, (await ZtgwAsync("dev", "certs", "--config", Config)).Exit);
        var sample = await ZtgwAsync("validate", "--config", Config);
        var variant = await ZtgwAsync("validate", "--config", TlsConfig);

        Assert.True(sample.Exit == 0, sample.Errors);
        Assert.Contains("valid (3 segments", sample.Output, StringComparison.Ordinal);
        Assert.True(variant.Exit == 0, variant.Errors);
        Assert.Contains("valid (1 segment", variant.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TlsVariant_ServesTheDevCertificate_AndVerifiesSvids()
    {
        Assert.Equal(0, (await ZtgwAsync("dev", "keys", "--config", Config)).Exit);
        Assert.Equal(0, (await ZtgwAsync("dev", "certs", "--config", Config)).Exit);
        var segment = Path.Combine(_directory, "tls", "segments", "hr.yaml");
        await File.WriteAllTextAsync(segment, (await File.ReadAllTextAsync(segment)).Replace("https://127.0.0.1:8443", "https://127.0.0.1:0", StringComparison.Ordinal));
        await File.WriteAllTextAsync(TlsConfig, (await File.ReadAllTextAsync(TlsConfig)).Replace("http://127.0.0.1:9091", "\"\"", StringComparison.Ordinal));
        var (host, diagnostics) = await GatewayHost.StartAsync(new GatewayHostOptions
        {
            ConfigPath = TlsConfig,
            WatchForChanges = false,
            LoggerFactory = LoggerFactory.Create(l => l.SetMinimumLevel(LogLevel.Warning)),
        });
        Assert.True(host is not null, string.Join('\n', diagnostics.Select(d => d.Format())));
        await using var _ = host;
        using var ca = X509CertificateLoader.LoadCertificateFromFile(Certs("dev-ca.pem"));
        using var svid = X509Certificate2.CreateFromPemFile(Certs("workloads/hr-payroll-engine.pem"), Certs("workloads/hr-payroll-engine.key"));

        string? served = null;
        using var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
        {
            served = (certificate as X509Certificate2)?.Thumbprint;
            return errors is System.Net.Security.SslPolicyErrors.None or System.Net.Security.SslPolicyErrors.RemoteCertificateChainErrors
                && Chains((X509Certificate2)certificate!, ca);
        };
        handler.SslOptions.ClientCertificates = [svid];
        using var client = new HttpClient(handler);

        // The handshake verified the SVID, and the variant's identity.workloadCertificates makes it the payroll engine's
        // credential: from loopback, outside hr's networks, it is taken for a stolen one.
        using var response = await client.GetAsync(new Uri(host.Listeners["hr"], "/payroll/alice"));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("source-mismatch", (await Problem.ReadAsync(response)).Reason);
        using var expected = X509CertificateLoader.LoadCertificateFromFile(Certs("hr.pem"));
        Assert.Equal(expected.Thumbprint, served);

        // A certificate of another CA fails the handshake, although certificates are only optional there.
        using var stranger = TestPki.Create("Not the trust bundle");
        using var forged = stranger.Client("payroll-engine", "spiffe://corp.example/hr/payroll-engine");
        using var other = new SocketsHttpHandler();
        other.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) => Chains((X509Certificate2)certificate!, ca);
        other.SslOptions.ClientCertificates = [forged];
        using var intruder = new HttpClient(other);
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => intruder.GetAsync(new Uri(host.Listeners["hr"], "/payroll/alice")));
    }

    private static bool Chains(X509Certificate2 certificate, X509Certificate2 ca)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }

    private static string? UriName(X509Certificate2 certificate)
    {
        var names = certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single();
        var data = new System.Formats.Asn1.AsnReader(names.RawData, System.Formats.Asn1.AsnEncodingRules.DER).ReadSequence();
        var uri = new System.Formats.Asn1.Asn1Tag(System.Formats.Asn1.TagClass.ContextSpecific, 6);
        return data.HasData && data.PeekTag().HasSameClassAndValue(uri) ? data.ReadCharacterString(System.Formats.Asn1.UniversalTagNumber.IA5String, uri) : null;
    }

    private static void AssertOwnerOnly(string path)
    {
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }
    }
}
