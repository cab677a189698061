using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using ZtGateway.IntegrationTests.Infrastructure;

namespace ZtGateway.IntegrationTests.Transport;

/// <summary>
/// TLS from the gateway to its upstreams, with real handshakes: a destination verified against the service's <c>ca</c>
/// is reached, one that is not trusted gets nothing and the caller 502 <c>upstream-unavailable</c> (audited), mTLS
/// presents the gateway's certificate, and rotating the CA or client files takes effect without a restart.
/// </summary>
public sealed class UpstreamTlsTests : IAsyncLifetime
{
    private readonly TestIdentity _identity = new();
    private readonly TestPki _services = TestPki.Create("HR services CA");
    private readonly TestPki _other = TestPki.Create("Some other CA");
    private readonly TestPki _gateways = TestPki.Create("Gateway clients CA");
    private readonly CapturedLogs _logs = new();
    private readonly string _certs = Path.Combine(Path.GetTempPath(), "ztgw-up-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly List<IAsyncDisposable> _disposables = [];

    public Task InitializeAsync()
    {
        _services.WriteCa(Cert("services-ca.pem"));
        _other.WriteCa(Cert("other-ca.pem"));
        using var gateway = _gateways.Client("ztgw-hr");
        TestPki.WritePair(gateway, Cert("gw.pem"), Cert("gw.key"));
        using var stranger = _other.Client("ztgw-elsewhere");
        TestPki.WritePair(stranger, Cert("stranger.pem"), Cert("stranger.key"));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        foreach (var disposable in Enumerable.Reverse(_disposables))
        {
            await disposable.DisposeAsync();
        }

        _identity.Dispose();
        _services.Dispose();
        _other.Dispose();
        _gateways.Dispose();
        Directory.Delete(_certs, recursive: true);
    }

    private string Cert(string name) => Path.Combine(_certs, name);

    /// <summary>An https upstream with a certificate of the services CA; <paramref name="requireClientFrom"/> makes it demand mTLS.</summary>
    private async Task<EchoUpstream> UpstreamAsync(TestPki? requireClientFrom = null, bool loopbackName = true)
    {
        var certificate = _services.Server("payroll.hr.internal", loopback: loopbackName);
        var upstream = await EchoUpstream.StartAsync("payroll", listen => listen.UseHttps(https =>
        {
            https.ServerCertificate = certificate;
            if (requireClientFrom is not null)
            {
                https.ClientCertificateMode = ClientCertificateMode.RequireCertificate;
                https.ClientCertificateValidation = (client, _, _) => requireClientFrom.Trusts(client);
            }
        }));
        _disposables.Add(upstream);
        return upstream;
    }

    private async Task<TestGateway> GatewayAsync(EchoUpstream upstream, string tls, bool watch = false)
    {
        var hr = $$"""
            segment: hr
            listen: http://127.0.0.1:0
            members:
              networks: [127.0.0.0/8]
            defaults: { device: any }
            services:
              payroll:
                destinations: [{{upstream.Url}}]
            {{tls}}
            routes:
              - id: payroll-read
                match: { path: "/payroll/{**rest}", methods: [GET] }
                service: payroll
                allow:
                  - { name: staff, from: [hr], users: { groups: [hr-staff] } }
            """;
        var gateway = await TestGateway.StartAsync(_identity, new Dictionary<string, string> { ["hr"] = hr }, watch: watch,
            configure: options => options with { LoggerFactory = _logs.Factory() });
        _disposables.Add(gateway);
        return gateway;
    }

    private async Task<Problem> GetAsync(TestGateway gateway)
    {
        using var client = gateway.Client("hr");
        return await Problem.SendAsync(client, HttpMethod.Get, "/payroll/alice", _identity.User(gateway.Time.GetUtcNow(), "harry", ["hr-staff"]));
    }

    private static string Ca(string path) => $"    tls:\n      ca: {path}";

    private static string? Reason(string auditLine)
    {
        using var json = JsonDocument.Parse(auditLine);
        return json.RootElement.GetProperty("unmapped").GetProperty("ztgw").GetProperty("reason").GetString();
    }

    [Fact]
    public async Task UpstreamVerifiedAgainstTheServiceCa_IsReached()
    {
        var upstream = await UpstreamAsync();
        var gateway = await GatewayAsync(upstream, Ca(Cert("services-ca.pem")));

        var answer = await GetAsync(gateway);

        Assert.Equal(HttpStatusCode.OK, answer.Status);
        Assert.Equal("/payroll/alice", Assert.Single(upstream.Requests).Path);
    }

    [Fact]
    public async Task UpstreamNotSignedByTheServiceCa_Is502UpstreamUnavailable_Audited_AndGetsNothing()
    {
        var upstream = await UpstreamAsync();
        var gateway = await GatewayAsync(upstream, Ca(Cert("other-ca.pem")));

        var answer = await GetAsync(gateway);

        Assert.Equal(HttpStatusCode.BadGateway, answer.Status);
        Assert.Equal("application/problem+json", answer.ContentType);
        Assert.Equal("upstream-unavailable", answer.Reason);
        Assert.Empty(upstream.Requests);
        var line = Assert.Single(await AuditLines.ReadWithoutPolicyChangesAsync(gateway.AuditFile));
        Assert.Equal("upstream-unavailable", Reason(line));
        Assert.Contains(_logs.Lines, l => l.Contains(" 1303 ", StringComparison.Ordinal) && l.Contains("payroll", StringComparison.Ordinal));
    }

    [Fact]
    public async Task CertificateOfTheServiceCa_ForAnotherHost_IsRefused()
    {
        var upstream = await UpstreamAsync(loopbackName: false);
        var gateway = await GatewayAsync(upstream, Ca(Cert("services-ca.pem")));

        var answer = await GetAsync(gateway);

        Assert.Equal(HttpStatusCode.BadGateway, answer.Status);
        Assert.Equal("upstream-unavailable", answer.Reason);
        Assert.Empty(upstream.Requests);
        Assert.Contains(_logs.Lines, l => l.Contains("its name does not match", StringComparison.Ordinal));
    }

    [Fact]
    public async Task WithoutCa_TheSystemStoreDecides_AndDoesNotTrustAPrivateCa()
    {
        var upstream = await UpstreamAsync();
        var gateway = await GatewayAsync(upstream, string.Empty);

        var answer = await GetAsync(gateway);

        Assert.Equal(HttpStatusCode.BadGateway, answer.Status);
        Assert.Equal("upstream-unavailable", answer.Reason);
        Assert.Empty(upstream.Requests);
    }

    [Fact]
    public async Task UpstreamRequiringAClientCertificate_GetsTheGatewaysCertificate()
    {
        var upstream = await UpstreamAsync(requireClientFrom: _gateways);
        var gateway = await GatewayAsync(upstream,
            Ca(Cert("services-ca.pem")) + $"\n      clientCertificate: {Cert("gw.pem")}\n      clientKey: {Cert("gw.key")}");

        var answer = await GetAsync(gateway);

        Assert.Equal(HttpStatusCode.OK, answer.Status);
        Assert.Equal("CN=ztgw-hr", Assert.Single(upstream.Requests).ClientCertificateSubject);
    }

    [Fact]
    public async Task UpstreamRequiringAClientCertificate_WithoutOne_Is502()
    {
        var upstream = await UpstreamAsync(requireClientFrom: _gateways);
        var gateway = await GatewayAsync(upstream, Ca(Cert("services-ca.pem")));

        var answer = await GetAsync(gateway);

        Assert.Equal(HttpStatusCode.BadGateway, answer.Status);
        Assert.Equal("upstream-unavailable", answer.Reason);
        Assert.Empty(upstream.Requests);
    }

    [Fact]
    public async Task RotatedCaFile_TakesEffectWithoutRestart()
    {
        var upstream = await UpstreamAsync();
        File.Copy(Cert("other-ca.pem"), Cert("rotating-ca.pem"));
        var gateway = await GatewayAsync(upstream, Ca(Cert("rotating-ca.pem")), watch: true);
        Assert.Equal(HttpStatusCode.BadGateway, (await GetAsync(gateway)).Status);

        File.Copy(Cert("services-ca.pem"), Cert("rotating-ca.pem"), overwrite: true);

        var status = await PollAsync(gateway, HttpStatusCode.OK);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Single(upstream.Requests);
    }

    [Fact]
    public async Task RotatedClientCertificate_TakesEffectWithoutRestart()
    {
        var upstream = await UpstreamAsync(requireClientFrom: _gateways);
        File.Copy(Cert("stranger.pem"), Cert("rotating.pem"));
        File.Copy(Cert("stranger.key"), Cert("rotating.key"));
        var gateway = await GatewayAsync(upstream,
            Ca(Cert("services-ca.pem")) + $"\n      clientCertificate: {Cert("rotating.pem")}\n      clientKey: {Cert("rotating.key")}", watch: true);
        Assert.Equal(HttpStatusCode.BadGateway, (await GetAsync(gateway)).Status);

        File.Copy(Cert("gw.pem"), Cert("rotating.pem"), overwrite: true);
        File.Copy(Cert("gw.key"), Cert("rotating.key"), overwrite: true);

        var status = await PollAsync(gateway, HttpStatusCode.OK);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("CN=ztgw-hr", Assert.Single(upstream.Requests).ClientCertificateSubject);
    }

    // Bounded: 60 tries 250 ms apart; the gateway compares the files every 200 ms here.
    private async Task<HttpStatusCode> PollAsync(TestGateway gateway, HttpStatusCode wanted)
    {
        var status = HttpStatusCode.BadGateway;
        for (var attempt = 0; attempt < 60 && status != wanted; attempt++)
        {
            await Task.Delay(250);
            status = (await GetAsync(gateway)).Status;
        }

        return status;
    }
}
