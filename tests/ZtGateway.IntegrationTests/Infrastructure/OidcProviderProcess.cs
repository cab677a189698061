using System.ComponentModel;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.IdentityModel.Tokens;

namespace ZtGateway.IntegrationTests.Infrastructure;

/// <summary>
/// A real, certified OpenID Provider (the <c>oidc-provider</c> package, tests/interop/oidc-provider/server.mjs)
/// in a Node.js child process on 127.0.0.1. Tokens come from its token endpoint, signed with its keys;
/// the test only holds client secrets. The process is stopped, restarted and re-keyed like a real one.
/// </summary>
public sealed class OidcProviderProcess : IAsyncDisposable
{
    public const string Audience = "ztgw";
    public const string WorkloadClient = "ledger-sync";
    public const string UserClient = "finance-portal";
    public const string TestLoginGrant = "urn:ztgw:params:oauth:grant-type:test-login";

    /// <summary>The gateway's browser sign-in client (authorization code with PKCE, client_secret_post).</summary>
    public const string WebClient = "ztgw-web";

    public const string WebClientSecret = "ztgw-web-secret";

    /// <summary>The password of every user at the provider's login form.</summary>
    public const string LoginPassword = "password";

    public const string MfaAcr = "urn:ztgw:acr:mfa";

    private static readonly SemaphoreSlim InstallGate = new(1, 1);
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private readonly StringBuilder _output = new();
    private readonly string _directory;
    private Process? _process;
    private IReadOnlyList<string> _webOrigins = [];
    private bool _sessionIds = true;
    private string? _backChannelLogoutUri;

    private OidcProviderProcess(int port, string directory)
    {
        Port = port;
        _directory = directory;
        KeysFile = Path.Combine(directory, "keys.json");
    }

    public int Port { get; }

    /// <summary>The provider's issuer, which is also the gateway's <c>authority</c>.</summary>
    public string Issuer => $"http://127.0.0.1:{Port}";

    /// <summary>The provider's private key set; the first key signs.</summary>
    public string KeysFile { get; }

    public static string ProjectDirectory => RepositoryFiles.PathOf("tests", "interop", "oidc-provider");

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>Installs the provider's packages if needed, then starts it on a free loopback port.</summary>
    /// <param name="webOrigins">Gateway origins (<c>http://127.0.0.1:PORT</c>) whose <c>/.ztgw/callback</c> the web client may use.</param>
    /// <param name="webOrigins">The origins of the gateway listeners its web client signs people in for.</param>
    /// <param name="sessionIds">Put <c>sid</c> in ID tokens (the web client registers a back-channel logout URI); false: no <c>sid</c>.</param>
    /// <param name="backChannelLogoutUri">Where the provider posts the web client's logout tokens; by default a port nothing listens on.</param>
    public static async Task<OidcProviderProcess> StartNewAsync(IReadOnlyList<string>? webOrigins = null, bool sessionIds = true,
        string? backChannelLogoutUri = null)
    {
        await EnsureInstalledAsync();
        var directory = Path.Combine(Path.GetTempPath(), "ztgw-op-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(directory);
        var provider = new OidcProviderProcess(Topology.UnusedPort(), directory) { _webOrigins = webOrigins ?? [], _sessionIds = sessionIds,
            _backChannelLogoutUri = backChannelLogoutUri };
        try
        {
            await provider.StartAsync();
        }
        catch
        {
            await provider.DisposeAsync();
            throw;
        }

        return provider;
    }

    /// <summary>Starts the provider process (again) on the same port with the current key file.</summary>
    public async Task StartAsync()
    {
        if (IsRunning)
        {
            throw new InvalidOperationException("the provider is already running");
        }

        lock (_output)
        {
            _output.Clear();
        }

        var process = Node(["server.mjs", "serve", "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--keys", KeysFile, "--audience", Audience,
            .. _webOrigins.SelectMany(origin => new[] { "--web-origin", origin }),
            .. (_sessionIds ? (_backChannelLogoutUri is null ? Array.Empty<string>() : ["--backchannel-logout", _backChannelLogoutUri]) : ["--backchannel-logout", ""])]);
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;

        var deadline = DateTime.UtcNow + StartTimeout;
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"oidc-provider exited with code {process.ExitCode}:\n{Output}");
            }

            try
            {
                using var discovery = await _http.GetAsync(Issuer + "/.well-known/openid-configuration");
                if (discovery.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(100);
        }

        throw new InvalidOperationException($"oidc-provider did not answer on {Issuer} within {StartTimeout.TotalSeconds} s:\n{Output}");
    }

    /// <summary>Stops the provider process; its port refuses connections afterwards.</summary>
    public async Task StopAsync()
    {
        if (_process is not { } process)
        {
            return;
        }

        _process = null;
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
        }

        await process.WaitForExitAsync();
        process.Dispose();
    }

    /// <summary>Adds a new signing key in front of the current ones (it signs from the next start); returns its kid.</summary>
    public async Task<string> AddSigningKeyAsync() => (await RunKeysAsync("add"))[0];

    /// <summary>Drops every key but the one that signs (effective from the next start).</summary>
    public async Task RetireOldKeysAsync() => await RunKeysAsync("retire");

    /// <summary>Restarts the provider so it loads the key file as it is now.</summary>
    public async Task RestartAsync()
    {
        await StopAsync();
        await StartAsync();
    }

    /// <summary>A client-credentials access token of the <c>ledger-sync</c> workload.</summary>
    public Task<string> WorkloadTokenAsync() => RequestTokenAsync(WorkloadClient, new Dictionary<string, string>
    {
        ["grant_type"] = "client_credentials",
    });

    /// <summary>An access token of a user after a login with the given methods (RFC 8176), acr and age.</summary>
    public Task<string> UserTokenAsync(string username, string amr = "pwd mfa", string? acr = null, TimeSpan? authAge = null)
    {
        var form = new Dictionary<string, string>
        {
            ["grant_type"] = TestLoginGrant,
            ["username"] = username,
            ["amr"] = amr,
            ["auth_age"] = ((int)(authAge ?? TimeSpan.FromMinutes(5)).TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        if (acr is not null)
        {
            form["acr"] = acr;
        }

        return RequestTokenAsync(UserClient, form);
    }

    /// <summary>The <c>kid</c> in a token's header.</summary>
    public static string KeyIdOf(string token)
    {
        using var header = JsonDocument.Parse(Base64UrlEncoder.Decode(token.Split('.')[0]));
        return header.RootElement.GetProperty("kid").GetString()!;
    }

    /// <summary>The decoded claims of a token (not verified: for assertions on what the provider put in).</summary>
    public static JsonElement ClaimsOf(string token)
    {
        using var payload = JsonDocument.Parse(Base64UrlEncoder.Decode(token.Split('.')[1]));
        return payload.RootElement.Clone();
    }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _http.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private async Task<string> RequestTokenAsync(string clientId, Dictionary<string, string> form)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Issuer + "/token") { Content = new FormUrlEncodedContent(form) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.ASCII.GetBytes($"{clientId}:{clientId}-secret")));
        using var response = await _http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new InvalidOperationException($"token request of {clientId} failed: {(int)response.StatusCode} {body}\n{Output}");
        }

        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("access_token").GetString()!;
    }

    private async Task<string[]> RunKeysAsync(string action)
    {
        using var process = Node("server.mjs", "keys", action, KeysFile);
        var (exitCode, output) = await RunAsync(process);
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"node server.mjs keys {action} failed ({exitCode}):\n{output}");
        }

        return output.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    // Installs the pinned packages once per test run when `npm ci` was not run before (CI runs it first).
    private static async Task EnsureInstalledAsync()
    {
        await InstallGate.WaitAsync();
        try
        {
            if (Directory.Exists(Path.Combine(ProjectDirectory, "node_modules", "oidc-provider")))
            {
                RequireNode();
                return;
            }

            RequireNode();
            using var npm = Command("npm", "ci", "--no-audit", "--no-fund", "--prefix", ProjectDirectory);
            var (exitCode, output) = await RunAsync(npm);
            if (exitCode != 0)
            {
                throw new InvalidOperationException($"`npm ci --prefix {ProjectDirectory}` failed ({exitCode}); the interop tests need the npm registry once:\n{output}");
            }
        }
        finally
        {
            InstallGate.Release();
        }
    }

    private static void RequireNode()
    {
        try
        {
            using var node = Node("--version");
            node.Start();
            node.WaitForExit();
            if (node.ExitCode == 0)
            {
                return;
            }
        }
        catch (Win32Exception)
        {
        }

        throw new InvalidOperationException(
            "The interop tests (Category=Interop) run a real OpenID Provider on Node.js, and `node` was not found on PATH. "
            + "Install Node.js 18 or later (e.g. `apt-get install nodejs npm`), or leave them out with --filter Category!=Interop.");
    }

    private static Process Node(params string[] arguments) => Command("node", arguments);

    private static Process Command(string fileName, params string[] arguments)
    {
        var info = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = ProjectDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        return new Process { StartInfo = info };
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(Process process)
    {
        process.Start();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout + await stderr);
    }
}
