using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Garnet;
using ZtGateway.Policy.Configuration;

namespace ZtGateway.DevTools.Demo;

/// <summary>
/// The Redis the demo's gateways share their state through: the one named with <c>ztgw demo --redis</c>, or a
/// Garnet server hosted in this process on a free loopback port with a password made for this run, so that the
/// demo needs nothing installed.
/// </summary>
internal sealed class DemoSharedStore : IAsyncDisposable
{
    private readonly GarnetServer? _server;

    private DemoSharedStore(string configuration, GarnetServer? server)
    {
        Configuration = configuration;
        _server = server;
    }

    /// <summary>The StackExchange.Redis configuration string the gateways are given (it may hold a password).</summary>
    public string Configuration { get; }

    /// <summary>True when the server runs in this process.</summary>
    public bool Embedded => _server is not null;

    /// <summary>What to print: the kind of store and its configuration with the password hidden.</summary>
    public string Description => (Embedded ? "an embedded Garnet server at " : "the Redis at ")
        + new SharedStateSettings { Redis = Configuration }.RedactedRedis;

    /// <summary>The given Redis; the demo neither starts nor stops it.</summary>
    public static DemoSharedStore Existing(string configuration) => new(configuration, null);

    /// <summary>Starts a Garnet server on 127.0.0.1 that answers only to a random password.</summary>
    public static DemoSharedStore StartEmbedded()
    {
        var password = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        for (var attempt = 1; ; attempt++)
        {
            // The port is free when asked; another process may take it before Garnet binds it, hence the retries.
            var port = FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture);
            GarnetServer? server = null;
            try
            {
                server = new GarnetServer(
                [
                    "--port", port, "--bind", "127.0.0.1", "-q", "--disable-console-logger", "--logger-level", "None",
                    "--auth", "Password", "--password", password,
                ]);
                server.Start();
                return new DemoSharedStore($"127.0.0.1:{port},password={password}", server);
            }
            catch (SocketException) when (attempt < 3)
            {
                server?.Dispose();
            }
            catch
            {
                server?.Dispose();
                throw;
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public ValueTask DisposeAsync()
    {
        _server?.Dispose();
        return ValueTask.CompletedTask;
    }
}
