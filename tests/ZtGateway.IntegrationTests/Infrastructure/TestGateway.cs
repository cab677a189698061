using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using ZtGateway.DevTools;
using ZtGateway.Hosting;

namespace ZtGateway.IntegrationTests.Infrastructure;

/// <summary>
/// A real gateway process-in-a-box: config files written to a temp folder, real Kestrel listeners on
/// 127.0.0.1, real token verification against a JWKS file, time from a fake clock.
/// </summary>
public sealed class TestGateway : IAsyncDisposable
{
    public const string DefaultGatewayYaml = """
        gateway:
          policyDir: segments
          stateDir: state
          management:
            listen: ""
        identity:
          issuers:
            - name: test
              type: jwks
              issuer: https://idp.test
              jwksFile: keys/idp.jwks.json
              audiences: [ztgw]
        device:
          header: X-Device-Posture
          audience: ztgw
          maxAge: 15m
          issuers:
            - issuer: https://posture.test
              jwksFile: keys/posture.jwks.json
        assertion:
          issuer: https://ztgw.test
          signingKeyFile: keys/gateway-signing.pem
        audit:
          sinks: ["file:audit/decisions.jsonl"]
        """;

    private TestGateway(string directory, GatewayHost host, FakeTimeProvider time)
    {
        Directory = directory;
        Host = host;
        Time = time;
    }

    public string Directory { get; }

    public string GatewayFile => Path.Combine(Directory, "gateway.yaml");

    public FakeTimeProvider Time { get; }

    internal GatewayHost Host { get; }

    public Uri Listener(string segment) => Host.Listeners[segment];

    public HttpClient Client(string segment) => new() { BaseAddress = Listener(segment), Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>Writes the config and starts the gateway; fails the test if the policy is invalid.</summary>
    internal static async Task<TestGateway> StartAsync(TestIdentity identity, IReadOnlyDictionary<string, string> segments,
        string? gatewayYaml = null, FakeTimeProvider? time = null, bool watch = false, TestDevices? devices = null,
        Func<GatewayHostOptions, GatewayHostOptions>? configure = null, Action<string>? prepare = null)
    {
        var directory = CreateConfig(identity, segments, gatewayYaml, devices);
        prepare?.Invoke(directory);
        time ??= new FakeTimeProvider(DateTimeOffset.UtcNow);
        configure ??= options => options;
        var (host, diagnostics) = await GatewayHost.StartAsync(configure(new GatewayHostOptions
        {
            ConfigPath = Path.Combine(directory, "gateway.yaml"),
            TimeProvider = time,
            WatchForChanges = watch,
            WatchInterval = TimeSpan.FromMilliseconds(200),
            LoggerFactory = LoggerFactory.Create(l => l.SetMinimumLevel(LogLevel.Warning)),
        }));
        if (host is null)
        {
            throw new InvalidOperationException("gateway did not start:\n" + string.Join('\n', diagnostics.Select(d => d.Format())));
        }

        return new TestGateway(directory, host, time);
    }

    /// <summary>The audit file, once every line committed so far reached it.</summary>
    public string AuditFile
    {
        get
        {
            Host.FlushAudit();
            return Path.Combine(Directory, "audit", "decisions.jsonl");
        }
    }

    public static string CreateConfig(TestIdentity identity, IReadOnlyDictionary<string, string> segments, string? gatewayYaml = null,
        TestDevices? devices = null)
    {
        var directory = Path.Combine(Path.GetTempPath(), "ztgw-it-" + Guid.NewGuid().ToString("N")[..12]);
        System.IO.Directory.CreateDirectory(Path.Combine(directory, "segments"));
        System.IO.Directory.CreateDirectory(Path.Combine(directory, "keys"));
        identity.WriteJwks(Path.Combine(directory, "keys", "idp.jwks.json"));
        // A gateway start never makes keys: the posture key set (a key nobody here holds, unless the test brings
        // its devices) and the gateway's signing key are provisioned like any deployment's.
        using (var unused = devices is null ? new TestDevices() : null)
        {
            (devices ?? unused!).WriteJwks(Path.Combine(directory, "keys", "posture.jwks.json"));
        }

        DevKeys.CreateSigningKey(Path.Combine(directory, "keys", "gateway-signing.pem"), overwrite: false);
        File.WriteAllText(Path.Combine(directory, "gateway.yaml"), gatewayYaml ?? DefaultGatewayYaml);
        foreach (var (name, yaml) in segments)
        {
            File.WriteAllText(Path.Combine(directory, "segments", name + ".yaml"), yaml);
        }

        return directory;
    }

    public async ValueTask DisposeAsync()
    {
        await Host.DisposeAsync();
        AuditConformance.AssertValid(Directory);
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
