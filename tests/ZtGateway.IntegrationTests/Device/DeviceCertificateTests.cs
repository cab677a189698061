using System.Net;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using ZtGateway.IntegrationTests.Continuous;
using ZtGateway.IntegrationTests.Identity;
using ZtGateway.IntegrationTests.Infrastructure;
using ZtGateway.IntegrationTests.Streams;

namespace ZtGateway.IntegrationTests.Device;

/// <summary>
/// Devices named by their certificate (device.certificates): real mTLS handshakes on loopback with certificates made in the
/// test, postures pushed by a test EDR bridge to the management listener, real signed tokens, the audit trail.
/// </summary>
public sealed class DeviceCertificateTests : IAsyncLifetime
{
    private const string Laptop = "urn:device:laptop-7";
    private const string Other = "urn:device:desktop-2";

    private readonly TestIdentity _identity = new();
    private readonly TestTransmitter _transmitter = new();
    private readonly TestDevices _devices = new();
    private readonly WorkloadPki _pki = new();
    private EchoUpstream _payroll = null!;
    private StreamingUpstream _live = null!;
    private ContinuousGateway _gateway = null!;

    private DateTimeOffset Now => _gateway.Time.GetUtcNow();

    public async Task InitializeAsync()
    {
        _payroll = await EchoUpstream.StartAsync("payroll");
        _live = await StreamingUpstream.StartAsync();
        _gateway = await StartAsync(_identity, _transmitter, _devices, _pki, _payroll, live: _live);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _payroll.DisposeAsync();
        await _live.DisposeAsync();
        _pki.Dispose();
        _identity.Dispose();
        _transmitter.Dispose();
        _devices.Dispose();
    }

    /// <summary>A gateway whose hr listener asks for client certificates and names devices by the MDM's certificates.</summary>
    internal static Task<ContinuousGateway> StartAsync(TestIdentity identity, TestTransmitter transmitter, TestDevices devices, WorkloadPki pki,
        EchoUpstream payroll, string sharedState = "", StreamingUpstream? live = null) =>
        ContinuousGateway.StartAsync(identity, transmitter, Segments(pki, payroll, live), devices, sharedState: sharedState, gatewayYaml: yaml => yaml.Replace(
            "device:\n  issuers:", $"device:\n  certificates:\n    ca: {pki.DeviceCaFile}\n    idFrom: uri\n  issuers:", StringComparison.Ordinal));

    private static Dictionary<string, string> Segments(WorkloadPki pki, EchoUpstream payroll, StreamingUpstream? live) => new()
    {
        ["finance"] = """
            segment: finance
            listen: http://127.0.0.1:0
            members:
              networks: [127.0.0.1/32]
            routes: []
            """,
        ["hr"] = $$"""
            segment: hr
            listen: https://127.0.0.1:0
            {{pki.TlsSection()}}
            members:
              networks: [10.20.0.0/16]
            services:
              payroll:
                destinations: [{{payroll.Url}}]
              live:
                destinations: [{{live?.Http1Url ?? payroll.Url}}]
            routes:
              - id: live
                match: { path: "/ws/{**rest}" }
                service: live
                allow:
                  - name: finance-on-compliant-devices
                    from: [finance]
                    users: { groups: [finance-staff] }
                    mfa: required
                    device: compliant
              - id: payroll-read
                match: { path: "/payroll/{**rest}", methods: [GET] }
                service: payroll
                allow:
                  - name: finance-on-compliant-devices
                    from: [finance]
                    users: { groups: [finance-staff] }
                    mfa: required
                    device: compliant
            """,
    };

    [Fact]
    public async Task APushedCompliantPosture_PassesDeviceCompliant_AndANoncompliantPushAfterIt_IsRefused()
    {
        Assert.Equal(HttpStatusCode.Accepted, (await PushAsync(_gateway, _devices.Posture(Now, Laptop, "finance"))).Status);
        using var client = Client(_pki.MdmDevice(Laptop));

        var allowed = await Problem.SendAsync(client, HttpMethod.Get, "/payroll/2026-11", Alice());

        Assert.Equal(HttpStatusCode.OK, allowed.Status);
        var forwarded = Assert.Single(_payroll.Requests);
        Assert.False(forwarded.Headers.ContainsKey("X-Device-Posture"));
        var assertion = Claims(forwarded.Headers["X-ZT-Assertion"]);
        Assert.Contains(Laptop, assertion.GetRawText(), StringComparison.Ordinal);
        Assert.Contains(Laptop, AuditLine(_gateway, assertion.GetProperty("decision_id").GetString()!).GetRawText(), StringComparison.Ordinal);

        // The EDR sees something: a later assertion says the device is no longer compliant.
        var pushed = await PushAsync(_gateway, _devices.Posture(Now, Laptop, "finance", compliant: false, issuedAt: Now.AddSeconds(5)));
        Assert.Equal(HttpStatusCode.Accepted, pushed.Status);

        var refused = await Problem.SendAsync(client, HttpMethod.Get, "/payroll/2026-11", Alice());

        Assert.Equal((HttpStatusCode.Forbidden, "device-noncompliant"), (refused.Status, refused.Reason));
        Assert.Single(_payroll.Requests);
    }

    [Fact]
    public async Task AnOpenWebSocket_OfACertifiedDevice_IsClosed_WhenTheEdrPushesANoncompliantPosture()
    {
        Assert.Equal(HttpStatusCode.Accepted, (await PushAsync(_gateway, _devices.Posture(Now, Laptop, "finance"))).Status);
        using var laptop = _pki.MdmDevice(Laptop);
        using var socket = await ConnectAsync(_gateway, _pki, laptop, Alice());

        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await socket.SendAsync("hello"u8.ToArray(), WebSocketMessageType.Text, endOfMessage: true, bound.Token);
        var buffer = new byte[1024];
        Assert.Equal("hello", Encoding.UTF8.GetString(buffer, 0, (await socket.ReceiveAsync(buffer, bound.Token)).Count));

        // A compliant push that comes later changes nothing; the non-compliant one after it closes the socket.
        Assert.Equal(HttpStatusCode.Accepted,
            (await PushAsync(_gateway, _devices.Posture(Now, Laptop, "finance", issuedAt: Now.AddSeconds(1)))).Status);
        await socket.SendAsync("still"u8.ToArray(), WebSocketMessageType.Text, endOfMessage: true, bound.Token);
        Assert.Equal("still", Encoding.UTF8.GetString(buffer, 0, (await socket.ReceiveAsync(buffer, bound.Token)).Count));

        var clock = System.Diagnostics.Stopwatch.StartNew();
        Assert.Equal(HttpStatusCode.Accepted,
            (await PushAsync(_gateway, _devices.Posture(Now, Laptop, "finance", compliant: false, issuedAt: Now.AddSeconds(2)))).Status);
        using var within = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        var closed = await socket.ReceiveAsync(buffer, within.Token);

        Assert.Equal(WebSocketMessageType.Close, closed.MessageType);
        Assert.Equal((WebSocketCloseStatus.PolicyViolation, "device-noncompliant"), (socket.CloseStatus, socket.CloseStatusDescription));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"closed after {clock.Elapsed}");
    }

    [Fact]
    public async Task WithoutAPushedPosture_OrOnceItExpired_TheDeviceIsMissing()
    {
        using var client = Client(_pki.MdmDevice(Laptop));

        var none = await Problem.SendAsync(client, HttpMethod.Get, "/payroll/2026-11", Alice());
        Assert.Equal((HttpStatusCode.Forbidden, "device-missing"), (none.Status, none.Reason));

        Assert.Equal(HttpStatusCode.Accepted, (await PushAsync(_gateway, _devices.Posture(Now, Laptop, "finance", lifetime: TimeSpan.FromMinutes(2)))).Status);
        Assert.Equal(HttpStatusCode.OK, (await Problem.SendAsync(client, HttpMethod.Get, "/payroll/2026-11", Alice())).Status);

        _gateway.Time.Advance(TimeSpan.FromMinutes(3));

        var expired = await Problem.SendAsync(client, HttpMethod.Get, "/payroll/2026-11", Alice());
        Assert.Equal((HttpStatusCode.Forbidden, "device-missing"), (expired.Status, expired.Reason));
        Assert.Single(_payroll.Requests);
    }

    [Fact]
    public async Task ACertificateOfTheClientCa_IsNoDevice_AndOneOfAnUnknownCa_FailsTheHandshake()
    {
        // The workload CA's certificate carries the same URI as a device with a compliant posture: it still names no device.
        Assert.Equal(HttpStatusCode.Accepted, (await PushAsync(_gateway, _devices.Posture(Now, Laptop, "finance"))).Status);
        using (var workloadCa = Client(_pki.Svid(Laptop)))
        {
            var answer = await Problem.SendAsync(workloadCa, HttpMethod.Get, "/payroll/2026-11", Alice());
            Assert.Equal((HttpStatusCode.Forbidden, "device-missing"), (answer.Status, answer.Reason));
        }

        using (var unknown = Client(_pki.Svid(Laptop, untrusted: true)))
        {
            await Assert.ThrowsAnyAsync<HttpRequestException>(() => unknown.GetAsync("/payroll/2026-11"));
        }

        Assert.Empty(_payroll.Requests);
        Assert.Contains(_gateway.Logs, l => l.Contains("handshake refused", StringComparison.Ordinal)
            && l.Contains("device.certificates.ca", StringComparison.Ordinal));
    }

    [Fact]
    public async Task APostureHeaderNamingAnotherDevice_ThanTheCertificate_IsDeviceInvalid_AndTheSameDevice_Passes()
    {
        using var client = Client(_pki.MdmDevice(Laptop));

        var mismatch = await Problem.SendAsync(client, HttpMethod.Get, "/payroll/2026-11", Alice(),
            r => r.Headers.Add("X-Device-Posture", _devices.Posture(Now, Other, "finance")));
        Assert.Equal((HttpStatusCode.Forbidden, "device-invalid"), (mismatch.Status, mismatch.Reason));

        var same = await Problem.SendAsync(client, HttpMethod.Get, "/payroll/2026-11", Alice(),
            r => r.Headers.Add("X-Device-Posture", _devices.Posture(Now, Laptop, "finance")));
        Assert.Equal(HttpStatusCode.OK, same.Status);
        Assert.Single(_payroll.Requests);
    }

    [Fact]
    public async Task ATokenBoundToADeviceCertificate_IsTokenInvalid_ADeviceCertificateIsNoTokensCertificate()
    {
        Assert.Equal(HttpStatusCode.Accepted, (await PushAsync(_gateway, _devices.Posture(Now, Laptop, "finance"))).Status);
        using var laptop = _pki.MdmDevice(Laptop);
        var bound = _identity.Sign(Now, new Dictionary<string, object>
        {
            ["sub"] = "alice",
            ["groups"] = new[] { "finance-staff" },
            ["amr"] = new[] { "pwd", "mfa" },
            ["auth_time"] = Now.AddMinutes(-5).ToUnixTimeSeconds(),
            ["cnf"] = new Dictionary<string, object> { ["x5t#S256"] = WorkloadPki.Thumbprint(laptop) },
        });
        using var client = Client(laptop);

        var answer = await Problem.SendAsync(client, HttpMethod.Get, "/payroll/2026-11", bound);

        Assert.Equal((HttpStatusCode.Unauthorized, "token-invalid"), (answer.Status, answer.Reason));
        Assert.Empty(_payroll.Requests);
    }

    [Fact]
    public async Task APushThatIsNotAValidPosture_IsRefused_AndChangesNothing()
    {
        Assert.Equal(HttpStatusCode.Accepted, (await PushAsync(_gateway, _devices.Posture(Now, Laptop, "finance", issuedAt: Now.AddSeconds(10)))).Status);

        var forged = await PushAsync(_gateway, _devices.Posture(Now, Laptop, "finance", compliant: false, key: _devices.SelfMadeKey, issuedAt: Now.AddSeconds(20)));
        var wrongType = await PushAsync(_gateway, _devices.Posture(Now, Laptop, "finance", compliant: false, issuedAt: Now.AddSeconds(20)), "application/json");
        var older = await PushAsync(_gateway, _devices.Posture(Now, Laptop, "finance", compliant: false));
        var junk = await PushAsync(_gateway, "not.a.jwt");

        Assert.Equal(HttpStatusCode.BadRequest, forged.Status);
        Assert.Contains("invalid_posture", forged.Body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, wrongType.Status);
        Assert.Equal(HttpStatusCode.Conflict, older.Status);
        Assert.Equal(HttpStatusCode.BadRequest, junk.Status);

        using var client = Client(_pki.MdmDevice(Laptop));
        Assert.Equal(HttpStatusCode.OK, (await Problem.SendAsync(client, HttpMethod.Get, "/payroll/2026-11", Alice())).Status);
    }

    [Fact]
    public async Task APushedPosture_SurvivesARestart()
    {
        Assert.Equal(HttpStatusCode.Accepted, (await PushAsync(_gateway, _devices.Posture(Now, Laptop, "finance"))).Status);

        await _gateway.RestartAsync();

        Assert.Contains("\"type\":\"posture\"", File.ReadAllText(_gateway.StateFile), StringComparison.Ordinal);
        using var client = Client(_pki.MdmDevice(Laptop));
        Assert.Equal(HttpStatusCode.OK, (await Problem.SendAsync(client, HttpMethod.Get, "/payroll/2026-11", Alice())).Status);
    }

    /// <summary>A WebSocket to hr's <c>/ws/echo</c> over TLS, presenting <paramref name="certificate"/>.</summary>
    internal static async Task<ClientWebSocket> ConnectAsync(ContinuousGateway gateway, WorkloadPki pki, X509Certificate2 certificate, string token)
    {
        var socket = new ClientWebSocket();
        socket.Options.ClientCertificates.Add(certificate);
        socket.Options.RemoteCertificateValidationCallback = (_, presented, _, _) =>
            presented is not null && presented.GetCertHashString() == pki.Server.GetCertHashString();
        socket.Options.SetRequestHeader("Authorization", "Bearer " + token);
        using var connect = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await socket.ConnectAsync(new Uri($"wss://{gateway.Host.Listeners["hr"].Authority}/ws/echo"), connect.Token);
        return socket;
    }

    internal static async Task<(HttpStatusCode Status, string Body)> PushAsync(ContinuousGateway gateway, string assertion, string contentType = "application/jwt")
    {
        using var management = gateway.Management();
        using var content = new StringContent(assertion, Encoding.ASCII);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        using var response = await management.PostAsync("/device/posture", content);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private string Alice() => _identity.User(Now, "alice", groups: ["finance-staff"]);

    private HttpClient Client(X509Certificate2 certificate) => _pki.Client(_gateway.Host.Listeners["hr"], certificate);

    private static JsonElement Claims(string jwt)
    {
        var payload = jwt.Split('.')[1].Replace('-', '+').Replace('_', '/');
        payload = payload.PadRight(payload.Length + ((4 - (payload.Length % 4)) % 4), '=');
        return JsonDocument.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(payload))).RootElement.Clone();
    }

    private static JsonElement AuditLine(ContinuousGateway gateway, string decisionId) =>
        AuditLines.ReadWithoutPolicyChanges(gateway.AuditFile)
            .Select(l => JsonDocument.Parse(l).RootElement.Clone())
            .Single(l => l.GetProperty("metadata").GetProperty("uid").GetString() == decisionId);
}
