using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Yarp.ReverseProxy.Forwarder;
using ZtGateway.Enforcement;
using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Engine;
using ZtGateway.Runtime;
using ZtGateway.Transport;

namespace ZtGateway.Tests.Transport;

/// <summary>
/// The invariant the request pipeline relies on, on a real Kestrel listener with real handshakes: with
/// <c>clientCertificates: none</c> no client certificate reaches a request (none is asked for), and with
/// <c>optional</c>/<c>required</c> the one that reaches it is the one the verifier accepted.
/// </summary>
public sealed class ListenerTransportTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "ztgw-lt-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly X509Certificate2 _ca = CreateCa("Listener CA");
    private readonly X509Certificate2 _clientCa = CreateCa("Client CA");

    public ListenerTransportTests()
    {
        Directory.CreateDirectory(_folder);
        using var server = Issue(_ca, "localhost", "1.3.6.1.5.5.7.3.1", loopback: true);
        WritePair(server, "hr.pem", "hr.key");
        File.WriteAllText(PathOf("clients.pem"), _clientCa.ExportCertificatePem());
    }

    public void Dispose()
    {
        _ca.Dispose();
        _clientCa.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    private string PathOf(string name) => Path.Combine(_folder, name);

    private SegmentConfig Segment(ClientCertificateRequirement mode) => new()
    {
        Name = "hr",
        Listen = "https://127.0.0.1:0",
        FilePath = PathOf("hr.yaml"),
        Tls = new ListenerTls
        {
            Certificate = new PemFile(PathOf("hr.pem"), SourceLocation.None),
            Key = new PemFile(PathOf("hr.key"), SourceLocation.None),
            ClientCertificates = mode,
            ClientCa = mode == ClientCertificateRequirement.None ? null : new PemFile(PathOf("clients.pem"), SourceLocation.None),
        },
    };

    /// <summary>Starts a listener that answers with the thumbprint of the request's client certificate, or "none".</summary>
    private static async Task<(WebApplication App, Uri Address)> StartAsync(SegmentConfig segment)
    {
        var transport = ListenerTransport.Create(segment, null, TimeProvider.System, NullLoggerFactory.Instance);
        var builder = EmbeddedWebApp.CreateBuilder("transport-test", segment.Listen, NullLoggerFactory.Instance, endpoint: transport.Configure);
        var app = builder.Build();
        app.MapGet("/", (HttpContext context) => context.Connection.ClientCertificate?.Thumbprint ?? "none");
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return (app, new Uri(address));
    }

    private async Task<string> AskAsync(Uri address, X509Certificate2? clientCertificate)
    {
        using var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate is not null;
        if (clientCertificate is not null)
        {
            handler.SslOptions.ClientCertificates = [clientCertificate];
            handler.SslOptions.LocalCertificateSelectionCallback = (_, _, _, _, _) => clientCertificate;
        }

        using var client = new HttpClient(handler);
        return await client.GetStringAsync(address);
    }

    [Fact]
    public async Task None_NeverAsksForACertificate_SoNoneReachesTheRequest()
    {
        var (app, address) = await StartAsync(Segment(ClientCertificateRequirement.None));
        await using var _ = app;
        using var offered = Issue(_clientCa, "workload", "1.3.6.1.5.5.7.3.2");

        Assert.Equal("none", await AskAsync(address, offered));
    }

    [Theory]
    [InlineData(ClientCertificateRequirement.Optional)]
    [InlineData(ClientCertificateRequirement.Required)]
    public async Task VerifiedCertificate_IsTheConnectionsClientCertificate(ClientCertificateRequirement mode)
    {
        var (app, address) = await StartAsync(Segment(mode));
        await using var _ = app;
        using var workload = Issue(_clientCa, "workload", "1.3.6.1.5.5.7.3.2");

        Assert.Equal(workload.Thumbprint, await AskAsync(address, workload));
    }

    [Fact]
    public async Task Optional_WithoutACertificate_ReachesTheRequestWithNone()
    {
        var (app, address) = await StartAsync(Segment(ClientCertificateRequirement.Optional));
        await using var _ = app;

        Assert.Equal("none", await AskAsync(address, null));
    }

    [Fact]
    public async Task Optional_CertificateOfAnotherCa_FailsTheHandshake()
    {
        var (app, address) = await StartAsync(Segment(ClientCertificateRequirement.Optional));
        await using var _ = app;
        using var otherCa = CreateCa("Other CA");
        using var intruder = Issue(otherCa, "intruder", "1.3.6.1.5.5.7.3.2");

        await Assert.ThrowsAnyAsync<HttpRequestException>(() => AskAsync(address, intruder));
    }

    [Fact]
    public void PlainListen_HasNoCertificate_AndHttpsWithoutTls_IsRefused()
    {
        var plain = ListenerTransport.Create(new SegmentConfig { Name = "hr", Listen = "http://127.0.0.1:0", FilePath = "x" }, null, TimeProvider.System,
            NullLoggerFactory.Instance);

        Assert.Null(plain.Certificate);
        Assert.Throws<InvalidOperationException>(() => ListenerTransport.Create(
            new SegmentConfig { Name = "hr", Listen = "https://127.0.0.1:0", FilePath = "x" }, null, TimeProvider.System, NullLoggerFactory.Instance));
    }

    [Fact]
    public void BrokenFiles_AtOpen_RefuseTheListener()
    {
        File.WriteAllText(PathOf("hr.key"), "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
        OwnerOnly(PathOf("hr.key"));

        var error = Assert.Throws<InvalidOperationException>(() => ListenerTransport.Create(Segment(ClientCertificateRequirement.None), null, TimeProvider.System,
            NullLoggerFactory.Instance));

        Assert.Contains("hr.key", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReloadingPem_KeepsTheOldMaterial_WhenTheChangeCannotBeUsed_AndTakesTheNextGoodOne()
    {
        var path = PathOf("bundle.pem");
        File.WriteAllText(path, _ca.ExportCertificatePem());
        var pem = ReloadingPem<X509Certificate2Collection>.Open([path], () => Policy.Loading.TlsFiles.LoadBundle(path), "test bundle", NullLogger.Instance);
        var first = pem.Current;

        File.WriteAllText(path, "garbage");
        Assert.False(pem.Refresh());
        Assert.Same(first, pem.Current);
        Assert.False(pem.Refresh()); // the same broken content is not tried again

        File.WriteAllText(path, _clientCa.ExportCertificatePem());
        Assert.True(pem.Refresh());
        Assert.Equal(_clientCa.Thumbprint, Assert.Single(pem.Current).Thumbprint);
    }

    [Fact]
    public void AFailedTlsHandshakeToAnUpstream_IsUpstreamUnavailable502()
    {
        // YARP reports a handshake the validation callback refused as a request error.
        Assert.Equal((ReasonCode.UpstreamUnavailable, StatusCodes.Status502BadGateway), UpstreamErrors.Classify(ForwarderError.Request));
    }

    private void WritePair(X509Certificate2 certificate, string certificateName, string keyName)
    {
        File.WriteAllText(PathOf(certificateName), certificate.ExportCertificatePem());
        using var key = certificate.GetECDsaPrivateKey()!;
        File.WriteAllText(PathOf(keyName), key.ExportPkcs8PrivateKeyPem());
        OwnerOnly(PathOf(keyName));
    }

    private static void OwnerOnly(string path)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }

    private static X509Certificate2 CreateCa(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
    }

    private static X509Certificate2 Issue(X509Certificate2 ca, string name, string usage, bool loopback = false)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(usage)], false));
        if (loopback)
        {
            var san = new SubjectAlternativeNameBuilder();
            san.AddIpAddress(IPAddress.Loopback);
            san.AddDnsName("localhost");
            request.CertificateExtensions.Add(san.Build());
        }

        using var issued = request.Create(ca, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(7), RandomNumberGenerator.GetBytes(8));
        return issued.CopyWithPrivateKey(key);
    }
}
