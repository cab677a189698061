using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using ZtGateway.Hosting;
using ZtGateway.IntegrationTests.Infrastructure;

namespace ZtGateway.IntegrationTests.Continuous;

/// <summary>
/// A real gateway with a management listener, a trusted signal transmitter and an admin role, which can be
/// stopped and started again on the same folder (and so the same state directory) to prove what survives.
/// </summary>
public sealed class ContinuousGateway : IAsyncDisposable
{
    private readonly ListLoggerProvider _logs = new();

    private ContinuousGateway(string directory, FakeTimeProvider time, string segment, long? compactAbove = null)
    {
        CompactAbove = compactAbove;
        Directory = directory;
        Time = time;
        Segment = segment;
    }

    /// <param name="detection">A top-level <c>detection:</c> section, or empty.</param>
    /// <param name="sharedState">The lines of a <c>gateway.sharedState</c> section, indented under <c>gateway:</c>, or empty.</param>
    public static string GatewayYaml(string detection = "", string sharedState = "") => """
        gateway:
          policyDir: segments
          stateDir: state
        """ + "\n" + sharedState + """
          management:
            listen: http://127.0.0.1:0
        identity:
          issuers:
            - name: test
              type: jwks
              issuer: https://idp.test
              jwksFile: keys/idp.jwks.json
              audiences: [ztgw]
        device:
          issuers:
            - issuer: https://posture.test
              jwksFile: keys/posture.jwks.json
        assertion:
          issuer: https://ztgw.test
          signingKeyFile: keys/gateway-signing.pem
        signals:
          transmitters:
            - issuer: https://signals.test
              jwksFile: keys/signals.jwks.json
              audience: ztgw
        admin:
          issuer: test
          role: ZtGatewayAdmin
        audit:
          sinks: ["file:audit/decisions.jsonl"]
        """ + "\n" + detection;

    public string Directory { get; }

    /// <summary>The segment whose listener this gateway opens, or <c>all</c>.</summary>
    public string Segment { get; }

    /// <summary>Entries beyond which the shared state's log is compacted; null for the default.</summary>
    public long? CompactAbove { get; }

    public FakeTimeProvider Time { get; }

    internal GatewayHost Host { get; private set; } = null!;

    /// <summary>The audit file, once every line committed so far reached it.</summary>
    public string AuditFile
    {
        get
        {
            Host.FlushAudit();
            return Path.Combine(Directory, "audit", "decisions.jsonl");
        }
    }

    public string StateFile => Path.Combine(Directory, "state", "ztgw-state.jsonl");

    /// <summary>Every log line the current and earlier hosts wrote, as "Category: message".</summary>
    public IReadOnlyList<string> Logs => _logs.Lines;

    public HttpClient Client(string segment) => new() { BaseAddress = Host.Listeners[segment], Timeout = TimeSpan.FromSeconds(30) };

    public HttpClient Management() => new() { BaseAddress = Host.ManagementAddress, Timeout = TimeSpan.FromSeconds(30) };

    public static async Task<ContinuousGateway> StartAsync(TestIdentity identity, TestTransmitter transmitter, IReadOnlyDictionary<string, string> segments,
        TestDevices? devices = null, string detection = "", string sharedState = "", string segment = "all", long? compactAbove = null,
        Func<string, string>? gatewayYaml = null)
    {
        var yaml = GatewayYaml(detection, sharedState);
        var directory = TestGateway.CreateConfig(identity, segments, gatewayYaml is null ? yaml : gatewayYaml(yaml), devices);
        transmitter.WriteJwks(Path.Combine(directory, "keys", "signals.jwks.json"));
        var gateway = new ContinuousGateway(directory, new FakeTimeProvider(DateTimeOffset.UtcNow), segment, compactAbove);
        await gateway.StartHostAsync();
        return gateway;
    }

    /// <summary>Stops the gateway and starts a new one on the same folder, doing <paramref name="whileStopped"/> in between.</summary>
    public async Task RestartAsync(Action? whileStopped = null)
    {
        await Host.DisposeAsync();
        whileStopped?.Invoke();
        await StartHostAsync();
    }

    /// <summary>Pushes one SET to /ssf/events.</summary>
    public async Task<(int Status, string Body)> PushAsync(string set, string contentType = "application/secevent+jwt")
    {
        using var management = Management();
        using var content = new StringContent(set, Encoding.ASCII);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        using var response = await management.PostAsync("/ssf/events", content);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Sends a management request with an optional bearer token and JSON body.</summary>
    public async Task<(int Status, string Body)> AdminAsync(HttpMethod method, string path, string? token, string? json = null)
    {
        using var management = Management();
        using var request = new HttpRequestMessage(method, path);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        using var response = await management.SendAsync(request);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    public static async Task<bool> EventuallyAsync(Func<Task<bool>> condition, TimeSpan within)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < within)
        {
            if (await condition())
            {
                return true;
            }

            await Task.Delay(50);
        }

        return await condition();
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

    private async Task StartHostAsync()
    {
        var (host, diagnostics) = await GatewayHost.StartAsync(new GatewayHostOptions
        {
            ConfigPath = Path.Combine(Directory, "gateway.yaml"),
            Segment = Segment,
            SharedStateCompactAbove = CompactAbove,
            TimeProvider = Time,
            WatchForChanges = false,
            LoggerFactory = LoggerFactory.Create(l => l.SetMinimumLevel(LogLevel.Information).AddProvider(_logs)),
        });
        Host = host ?? throw new InvalidOperationException("gateway did not start:\n" + string.Join('\n', diagnostics.Select(d => d.Format())));
    }

    /// <summary>Keeps log lines in memory so a test can see what the gateway reported.</summary>
    private sealed class ListLoggerProvider : ILoggerProvider
    {
        private readonly List<string> _lines = [];

        public IReadOnlyList<string> Lines
        {
            get
            {
                lock (_lines)
                {
                    return [.. _lines];
                }
            }
        }

        public ILogger CreateLogger(string categoryName) => new ListLogger(categoryName, this);

        public void Dispose()
        {
        }

        private void Add(string line)
        {
            lock (_lines)
            {
                _lines.Add(line);
            }
        }

        private sealed class ListLogger(string category, ListLoggerProvider provider) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                provider.Add(category + ": " + formatter(state, exception) + (exception is null ? string.Empty : " " + exception));
        }
    }
}
