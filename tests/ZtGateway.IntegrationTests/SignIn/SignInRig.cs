using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using ZtGateway.IntegrationTests.Continuous;
using ZtGateway.IntegrationTests.Identity;
using ZtGateway.IntegrationTests.Infrastructure;

namespace ZtGateway.IntegrationTests.SignIn;

/// <summary>
/// A real OpenID Provider (oidc-provider, with its login form) and one or two gateways whose finance and hr listeners
/// sign people in with it (<c>signIn: true</c>), each in front of an echo upstream. Listener ports are fixed before the
/// provider starts, because its web client names their callbacks.
/// </summary>
internal sealed class SignInRig : IAsyncDisposable
{
    private readonly TestIdentity _identity = new();
    private readonly List<TestGateway> _gateways = [];
    private readonly List<GatewayProcess> _processes = [];
    private readonly List<string> _directories = [];
    private readonly string _secretDirectory;

    private SignInRig(OidcProviderProcess provider, EchoUpstream portal, EchoUpstream people, string secretDirectory)
    {
        Provider = provider;
        Portal = portal;
        People = people;
        _secretDirectory = secretDirectory;
    }

    public OidcProviderProcess Provider { get; }

    public EchoUpstream Portal { get; }

    public EchoUpstream People { get; }

    public TestTransmitter Transmitter { get; } = new();

    public IReadOnlyList<TestGateway> Gateways => _gateways;

    public TestGateway Gateway => _gateways[0];

    public string SecretFile => Path.Combine(_secretDirectory, "ztgw-web.secret");

    public string Finance(int gateway = 0) =>
        (_processes.Count > 0 ? _processes[gateway].Listener : _gateways[gateway].Listener("finance")).ToString().TrimEnd('/');

    /// <summary>The config folders of the gateway processes.</summary>
    public IReadOnlyList<string> Directories => _directories;

    /// <summary>The gateway processes, when the rig runs them as processes.</summary>
    public IReadOnlyList<GatewayProcess> Processes => _processes;

    public string Hr(int gateway = 0) => _gateways[gateway].Listener("hr").ToString().TrimEnd('/');

    /// <summary>The device PKI when finance's listener is https and names devices by certificate; else null.</summary>
    public WorkloadPki? DevicePki { get; private set; }

    /// <summary>The EDR bridge whose posture assertions the gateways trust.</summary>
    public TestDevices Devices { get; } = new();

    /// <summary>
    /// Starts the provider and <paramref name="gateways"/> gateways (sharing <paramref name="redis"/> when given). With
    /// <paramref name="devicePki"/>, finance listens on https, asks for client certificates and names devices by the
    /// certificates of that PKI's device CA; its <c>/device/</c> pages need a compliant device.
    /// </summary>
    /// <param name="gateways">How many gateways.</param>
    /// <param name="redis">The Redis they share state through; none when null.</param>
    /// <param name="devicePki">The device PKI of finance's https listener; plain http when null.</param>
    /// <param name="processes">Run each gateway as its own <c>ztgw run</c> process rather than a host in this process.</param>
    /// <param name="providerSessionIds">Whether the provider puts <c>sid</c> in its ID tokens.</param>
    /// <param name="providerBackChannel">Register the first gateway's back-channel logout endpoint with the provider, which then posts its logout tokens there.</param>
    public static async Task<SignInRig> StartAsync(int gateways = 1, RedisServer? redis = null, WorkloadPki? devicePki = null, bool processes = false,
        bool providerSessionIds = true, bool providerBackChannel = false)
    {
        var ports = Enumerable.Range(0, gateways).Select(_ => (Finance: Topology.UnusedPort(), Hr: Topology.UnusedPort(), Management: Topology.UnusedPort())).ToList();
        var financeScheme = devicePki is null ? "http" : "https";
        var origins = ports.SelectMany(p => new[] { $"{financeScheme}://127.0.0.1:{p.Finance}", $"http://127.0.0.1:{p.Hr}" }).ToList();
        var provider = await OidcProviderProcess.StartNewAsync(origins, providerSessionIds,
            providerBackChannel ? $"http://127.0.0.1:{ports[0].Management}/oidc/backchannel-logout" : null);
        var portal = await EchoUpstream.StartAsync("portal");
        var people = await EchoUpstream.StartAsync("people");
        var secrets = Directory.CreateTempSubdirectory("ztgw-signin-secret-").FullName;
        var rig = new SignInRig(provider, portal, people, secrets) { DevicePki = devicePki };
        File.WriteAllText(rig.SecretFile, OidcProviderProcess.WebClientSecret + "\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(rig.SecretFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        var prefix = "ztgw-signin-" + Guid.NewGuid().ToString("N")[..8];
        try
        {
            foreach (var (finance, hr, management) in ports)
            {
                var yaml = rig.GatewayYaml(redis is null ? string.Empty : $"  sharedState:\n    redis: \"{redis.Configuration},connectTimeout=1000\"\n    prefix: {prefix}\n",
                    management);
                if (processes)
                {
                    var directory = TestGateway.CreateConfig(rig._identity, rig.Segments(finance, hr), yaml, rig.Devices);
                    rig.Transmitter.WriteJwks(Path.Combine(directory, "keys", "signals.jwks.json"));
                    rig._directories.Add(directory);
                    rig._processes.Add(await GatewayProcess.StartAsync(Path.Combine(directory, "gateway.yaml"), "finance"));
                    continue;
                }

                // The provider stamps iat and auth_time on the real clock: so does the gateway here.
                var gateway = await TestGateway.StartAsync(rig._identity, rig.Segments(finance, hr), yaml, devices: rig.Devices,
                    configure: options => options with { TimeProvider = TimeProvider.System },
                    prepare: directory => rig.Transmitter.WriteJwks(Path.Combine(directory, "keys", "signals.jwks.json")));
                rig._gateways.Add(gateway);
            }
        }
        catch
        {
            await rig.DisposeAsync();
            throw;
        }

        return rig;
    }

    private string GatewayYaml(string sharedState, int managementPort) => $$"""
        gateway:
          policyDir: segments
          stateDir: state
        {{sharedState}}  management:
            listen: http://127.0.0.1:{{managementPort}}
        identity:
          issuers:
            - name: corp
              type: oidc
              authority: {{Provider.Issuer}}
              audiences: [ztgw]
              requireHttpsMetadata: false
        signIn:
          issuer: corp
          clientId: {{OidcProviderProcess.WebClient}}
          clientSecretFile: {{SecretFile}}
          scopes: [openid, profile]
          sessionLifetime: 1h
        device:
          header: X-Device-Posture
          audience: ztgw
          maxAge: 15m
        {{DeviceCertificates}}  issuers:
            - issuer: https://posture.test
              jwksFile: keys/posture.jwks.json
        signals:
          transmitters:
            - issuer: https://signals.test
              jwksFile: keys/signals.jwks.json
              audience: ztgw
        assertion:
          issuer: https://ztgw.test
          signingKeyFile: keys/gateway-signing.pem
        audit:
          sinks: ["file:audit/decisions.jsonl"]
        """;

    private string DeviceCertificates => DevicePki is null ? string.Empty
        : $"  certificates:\n    ca: {DevicePki.DeviceCaFile}\n    idFrom: uri\n";

    private string FinanceListen(int port) => DevicePki is null ? $"listen: http://127.0.0.1:{port}"
        : $"listen: https://127.0.0.1:{port}\n" + DevicePki.TlsSection();

    private Dictionary<string, string> Segments(int financePort, int hrPort) => new()
    {
        ["finance"] = $$"""
            segment: finance
            {{FinanceListen(financePort)}}
            signIn: true
            members:
              networks: [127.0.0.0/8]
            defaults:
              mfa: optional
              device: any
              maxAuthAge: 12h
            services:
              portal:
                destinations: [{{Portal.Url}}]
            routes:
              - id: device-pages
                match: { path: "/device/{**rest}", methods: [GET] }
                service: portal
                allow:
                  - name: finance-on-compliant-devices
                    from: [finance]
                    users: { groups: [finance-staff] }
                    device: compliant
              - id: admin
                match: { path: "/admin/{**rest}", methods: [GET] }
                service: portal
                allow:
                  - name: finance-admins
                    from: [finance]
                    users: { groups: [finance-staff] }
                    mfa: required
              - id: portal
                match: { path: "/{**rest}", methods: [GET, POST] }
                service: portal
                allow:
                  - name: finance-staff
                    from: [finance]
                    users: { groups: [finance-staff] }
            """,
        ["hr"] = $$"""
            segment: hr
            listen: http://127.0.0.1:{{hrPort}}
            signIn: true
            defaults:
              mfa: optional
              device: any
            services:
              people:
                destinations: [{{People.Url}}]
            routes:
              - id: people
                match: { path: "/{**rest}", methods: [GET] }
                service: people
                allow:
                  - name: hr-staff
                    from: [hr]
                    users: { groups: [hr-staff] }
            """,
    };

    /// <summary>An HTTP client with no cookie jar of its own and no redirects followed, for exact answers.</summary>
    public static HttpClient RawClient() => new(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>Sends a GET with exactly this Cookie header and Accept.</summary>
    public static async Task<(HttpStatusCode Status, string Body, HttpResponseMessage Response)> GetAsync(string url, string? cookie, string accept = "application/json")
    {
        using var client = RawClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.TryAddWithoutValidation("Accept", accept);
        if (cookie is not null)
        {
            request.Headers.TryAddWithoutValidation("Cookie", cookie);
        }

        var response = await client.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(), response);
    }

    /// <summary>The <c>reason</c> member of a problem+json body.</summary>
    public static string Reason(string body) => JsonDocument.Parse(body).RootElement.GetProperty("reason").GetString()!;

    /// <summary>Pushes a CAEP event to the gateway's management listener.</summary>
    public async Task<HttpStatusCode> PushSignalAsync(string set, int gateway = 0)
    {
        using var management = new HttpClient { BaseAddress = _gateways[gateway].Host.ManagementAddress, Timeout = TimeSpan.FromSeconds(30) };
        using var content = new StringContent(set, Encoding.ASCII, "application/secevent+jwt");
        using var response = await management.PostAsync("/ssf/events", content);
        return response.StatusCode;
    }

    /// <summary>Pushes a posture assertion to the gateway's <c>/device/posture</c>, as an EDR bridge does.</summary>
    public async Task<HttpStatusCode> PushPostureAsync(string assertion, int gateway = 0)
    {
        using var management = new HttpClient { BaseAddress = _gateways[gateway].Host.ManagementAddress, Timeout = TimeSpan.FromSeconds(30) };
        using var content = new StringContent(assertion, Encoding.ASCII, "application/jwt");
        using var response = await management.PostAsync("/device/posture", content);
        return response.StatusCode;
    }

    /// <summary>Posts a logout token to the gateway's back-channel logout endpoint.</summary>
    public async Task<(HttpStatusCode Status, string Body)> BackChannelLogoutAsync(string logoutToken, int gateway = 0)
    {
        using var management = new HttpClient { BaseAddress = _gateways[gateway].Host.ManagementAddress, Timeout = TimeSpan.FromSeconds(30) };
        using var content = new FormUrlEncodedContent([new("logout_token", logoutToken)]);
        using var response = await management.PostAsync("/oidc/backchannel-logout", content);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>
    /// A logout token as the provider signs one (with the provider's own signing key, read from its key file), or with a
    /// key of nobody's when <paramref name="forged"/>.
    /// </summary>
    public string LogoutToken(string subject, string? sid = null, bool forged = false, string? jti = null)
    {
        SecurityKey key;
        if (forged)
        {
            key = new RsaSecurityKey(RSA.Create(2048)) { KeyId = "forged" };
        }
        else
        {
            using var keys = JsonDocument.Parse(File.ReadAllText(Provider.KeysFile));
            key = new JsonWebKey(keys.RootElement.GetProperty("keys")[0].GetRawText());
        }

        var now = DateTimeOffset.UtcNow;
        var claims = new Dictionary<string, object>
        {
            ["sub"] = subject,
            ["jti"] = jti ?? Guid.NewGuid().ToString(),
            ["events"] = new Dictionary<string, object> { ["http://schemas.openid.net/event/backchannel-logout"] = new Dictionary<string, object>() },
        };
        if (sid is not null)
        {
            claims["sid"] = sid;
        }

        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Provider.Issuer,
            Audience = OidcProviderProcess.WebClient,
            IssuedAt = now.UtcDateTime,
            Expires = now.AddMinutes(2).UtcDateTime,
            TokenType = "logout+jwt",
            Claims = claims,
            SigningCredentials = new SigningCredentials(key, SecurityAlgorithms.RsaSha256),
        });
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var gateway in _gateways)
        {
            await gateway.DisposeAsync();
        }

        foreach (var process in _processes)
        {
            await process.DisposeAsync();
        }

        foreach (var directory in _directories)
        {
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
            }
        }

        await Portal.DisposeAsync();
        await People.DisposeAsync();
        await Provider.DisposeAsync();
        Transmitter.Dispose();
        Devices.Dispose();
        _identity.Dispose();
        Directory.Delete(_secretDirectory, recursive: true);
    }
}
