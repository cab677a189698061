using System.Net;
using System.Net.Http.Headers;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using ZtGateway.IntegrationTests.Infrastructure;

namespace ZtGateway.IntegrationTests.Transport;

/// <summary>
/// TLS segment listeners with real handshakes: the configured certificate is served and follows its files (a broken
/// replacement keeps the old one), <c>minVersion</c> holds, client certificates are verified against <c>clientCA</c>,
/// and HTTP/2 is chosen by ALPN.
/// </summary>
public sealed class TlsListenerTests : IAsyncLifetime
{
    private readonly TestIdentity _identity = new();
    private readonly TestPki _ca = TestPki.Create("Listener CA");
    private readonly TestPki _clients = TestPki.Create("Client CA");
    private readonly TestPki _stranger = TestPki.Create("Unknown CA");
    private readonly CapturedLogs _logs = new();
    private readonly string _certs = Path.Combine(Path.GetTempPath(), "ztgw-tls-" + Guid.NewGuid().ToString("N")[..12]);
    private EchoUpstream _payroll = null!;
    private TestGateway? _gateway;

    public async Task InitializeAsync()
    {
        _payroll = await EchoUpstream.StartAsync("payroll");
        using var server = _ca.Server("hr");
        TestPki.WritePair(server, Cert("hr.pem"), Cert("hr.key"));
        _clients.WriteCa(Cert("clients-ca.pem"));
    }

    public async Task DisposeAsync()
    {
        if (_gateway is not null)
        {
            await _gateway.DisposeAsync();
        }

        await _payroll.DisposeAsync();
        _identity.Dispose();
        _ca.Dispose();
        _clients.Dispose();
        _stranger.Dispose();
        Directory.Delete(_certs, recursive: true);
    }

    private string Cert(string name) => Path.Combine(_certs, name);

    private async Task<Uri> StartAsync(string tls, string protocols = "", bool watch = false)
    {
        var hr = $$"""
            segment: hr
            listen: https://127.0.0.1:0
            {{protocols}}
            tls:
              certificate: {{Cert("hr.pem")}}
              key: {{Cert("hr.key")}}
            {{tls}}
            members:
              networks: [127.0.0.0/8]
            defaults: { device: any }
            services:
              payroll: { destinations: [{{_payroll.Url}}] }
            routes:
              - id: payroll-read
                match: { path: "/payroll/{**rest}", methods: [GET] }
                service: payroll
                allow:
                  - { name: staff, from: [hr], users: { groups: [hr-staff] } }
            """;
        _gateway = await TestGateway.StartAsync(_identity, new Dictionary<string, string> { ["hr"] = hr }, watch: watch,
            configure: options => options with { LoggerFactory = _logs.Factory() });
        return _gateway.Listener("hr");
    }

    /// <summary>One request on a new connection; <paramref name="seen"/> gets the certificate the listener presented.</summary>
    private async Task<HttpResponseMessage> SendAsync(Uri listener, X509Certificate2? clientCertificate = null, SslProtocols protocols = SslProtocols.None,
        Version? version = null, Action<X509Certificate2>? seen = null)
    {
        var handler = new SocketsHttpHandler();
        handler.SslOptions.EnabledSslProtocols = protocols;
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
        {
            var leaf = certificate as X509Certificate2;
            if (leaf is not null)
            {
                seen?.Invoke(leaf);
            }

            return _ca.Trusts(leaf);
        };
        if (clientCertificate is not null)
        {
            handler.SslOptions.ClientCertificates = [clientCertificate];
        }

        using var client = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(20) };
        var request = new HttpRequestMessage(HttpMethod.Get, new Uri(listener, "/payroll/alice"))
        {
            Version = version ?? HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _identity.User(_gateway!.Time.GetUtcNow(), "harry", ["hr-staff"]));
        return await client.SendAsync(request);
    }

    private async Task<string> ServedThumbprintAsync(Uri listener)
    {
        string? thumbprint = null;
        using var response = await SendAsync(listener, seen: c => thumbprint = c.Thumbprint);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return thumbprint!;
    }

    [Fact]
    public async Task ServesTheConfiguredCertificate()
    {
        var listener = await StartAsync(string.Empty);
        using var expected = X509CertificateLoader.LoadCertificateFromFile(Cert("hr.pem"));

        Assert.Equal(expected.Thumbprint, await ServedThumbprintAsync(listener));
        Assert.Single(_payroll.Requests);
    }

    [Fact]
    public async Task ReplacedFiles_AreServedWithoutRestart()
    {
        var listener = await StartAsync(string.Empty, watch: true);
        var before = await ServedThumbprintAsync(listener);
        using var next = _ca.Server("hr", rsa: true);

        TestPki.WritePair(next, Cert("hr.pem"), Cert("hr.key"));

        var served = before;
        for (var attempt = 0; attempt < 100 && served != next.Thumbprint; attempt++)
        {
            await Task.Delay(100);
            served = await ServedThumbprintAsync(listener);
        }

        Assert.Equal(next.Thumbprint, served);
        Assert.Contains(_logs.Lines, l => l.Contains("1300", StringComparison.Ordinal) && l.Contains("changed files loaded", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("mismatched-key")]
    [InlineData("garbage-certificate")]
    [InlineData("garbage-key")]
    public async Task BrokenReplacement_KeepsTheOldCertificate_AndIsLogged(string breakage)
    {
        var listener = await StartAsync(string.Empty, watch: true);
        var before = await ServedThumbprintAsync(listener);
        using var other = _ca.Server("other");

        switch (breakage)
        {
            case "mismatched-key":
                TestPki.WritePair(other, Cert("other.pem"), Cert("hr.key"));
                break;
            case "garbage-certificate":
                await File.WriteAllTextAsync(Cert("hr.pem"), "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n");
                break;
            default:
                TestPki.WriteKey(Cert("hr.key"), "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----");
                break;
        }

        for (var attempt = 0; attempt < 100 && !_logs.Lines.Any(l => l.Contains(" 1301 ", StringComparison.Ordinal)); attempt++)
        {
            await Task.Delay(100);
        }

        var refused = Assert.Single(_logs.Lines, l => l.Contains(" 1301 ", StringComparison.Ordinal));
        Assert.Contains("the previous ones keep serving", refused, StringComparison.Ordinal);
        Assert.Equal(before, await ServedThumbprintAsync(listener));
    }

    [Fact]
    public async Task ReloadChangingTheListenersTls_IsRefused_AndTheListenerKeepsItsTls()
    {
        var listener = await StartAsync(string.Empty);
        var file = Path.Combine(_gateway!.Directory, "segments", "hr.yaml");
        var yaml = await File.ReadAllTextAsync(file);
        await File.WriteAllTextAsync(file, yaml.Replace("tls:\n", "tls:\n  minVersion: \"1.3\"\n", StringComparison.Ordinal));

        var result = await _gateway.Host.ReloadAsync();

        Assert.False(result.Succeeded);
        Assert.Contains(result.Diagnostics, d => d.Message == "segment 'hr': tls.minVersion changed; restart the gateway to apply it to its listener");
        using var response = await SendAsync(listener, protocols: SslProtocols.Tls12);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task MinVersion13_RefusesATls12Client()
    {
        var listener = await StartAsync("  minVersion: \"1.3\"");

        await Assert.ThrowsAnyAsync<HttpRequestException>(() => SendAsync(listener, protocols: SslProtocols.Tls12));
        using var tls13 = await SendAsync(listener, protocols: SslProtocols.Tls13);
        Assert.Equal(HttpStatusCode.OK, tls13.StatusCode);
        Assert.Single(_payroll.Requests);
    }

    [Fact]
    public async Task DefaultMinVersion_AcceptsTls12()
    {
        var listener = await StartAsync(string.Empty);

        using var response = await SendAsync(listener, protocols: SslProtocols.Tls12);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private const string Required = "  clientCertificates: required\n  clientCA: {ca}";
    private const string Optional = "  clientCertificates: optional\n  clientCA: {ca}";

    private Task<Uri> StartWithClientsAsync(string mode) => StartAsync(mode.Replace("{ca}", Cert("clients-ca.pem"), StringComparison.Ordinal));

    [Fact]
    public async Task Required_RefusesAClientWithoutACertificate()
    {
        var listener = await StartWithClientsAsync(Required);

        await Assert.ThrowsAnyAsync<HttpRequestException>(() => SendAsync(listener));
        Assert.Empty(_payroll.Requests);
        Assert.Contains(_logs.Lines, l => l.Contains(" 1302 ", StringComparison.Ordinal) && l.Contains("none was sent", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Required_RefusesACertificateFromAnUnknownCa()
    {
        var listener = await StartWithClientsAsync(Required);
        using var intruder = _stranger.Client("intruder", "spiffe://corp.test/hr/intruder");

        await Assert.ThrowsAnyAsync<HttpRequestException>(() => SendAsync(listener, intruder));
        Assert.Empty(_payroll.Requests);
    }

    [Fact]
    public async Task Required_AcceptsACertificateFromTheClientCa()
    {
        var listener = await StartWithClientsAsync(Required);
        using var workload = _clients.Client("payroll-engine", "spiffe://corp.test/hr/payroll-engine");

        using var response = await SendAsync(listener, workload);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Single(_payroll.Requests);
    }

    [Fact]
    public async Task Required_RefusesAnExpiredCertificate_AndOneNotForClientAuth()
    {
        var listener = await StartWithClientsAsync(Required);
        using var expired = _clients.Client("old", notAfter: DateTimeOffset.UtcNow.AddDays(-1));
        using var serverOnly = _clients.Client("server-only", usage: TestPki.ServerAuth);

        await Assert.ThrowsAnyAsync<HttpRequestException>(() => SendAsync(listener, expired));
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => SendAsync(listener, serverOnly));
        Assert.Empty(_payroll.Requests);
    }

    [Fact]
    public async Task Optional_AcceptsNoCertificate_ButRefusesOneThatDoesNotVerify()
    {
        var listener = await StartWithClientsAsync(Optional);
        using var intruder = _stranger.Client("intruder");

        using var anonymous = await SendAsync(listener);
        Assert.Equal(HttpStatusCode.OK, anonymous.StatusCode);
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => SendAsync(listener, intruder));
        Assert.Single(_payroll.Requests);
    }

    [Fact]
    public async Task Http2_IsChosenByAlpn_AndReachesTheUpstream()
    {
        var listener = await StartAsync(string.Empty);

        using var response = await SendAsync(listener, version: HttpVersion.Version20);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HttpVersion.Version20, response.Version);
        Assert.Equal("/payroll/alice", Assert.Single(_payroll.Requests).Path);
    }

    [Fact]
    public async Task Http1Only_RefusesHttp2()
    {
        var listener = await StartAsync(string.Empty, protocols: "protocols: [http1]");

        await Assert.ThrowsAnyAsync<HttpRequestException>(() => SendAsync(listener, version: HttpVersion.Version20));
        using var response = await SendAsync(listener);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
