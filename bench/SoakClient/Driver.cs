using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Threading.Channels;

namespace SoakClient;

/// <summary>
/// <c>SoakClient drive</c>: mixed traffic at a bounded rate until the duration ends or the stop file appears.
/// Every request carries its own W3C <c>traceparent</c> and is written to <c>responses.tsv</c> with what came
/// back; the checker later finds each one in the audit file.
/// </summary>
internal sealed class Driver : IAsyncDisposable
{
    private static readonly (string Kind, double Weight)[] DefaultMix =
    [
        (Kinds.Allow, 30), (Kinds.Distinct, 25), (Kinds.Segment, 8), (Kinds.StepUp, 6), (Kinds.Missing, 2),
        (Kinds.Forged, 20), (Kinds.Revokee, 7), (Kinds.Dead, 2),
    ];

    private readonly DriverOptions _options;
    private readonly TimeProvider _time = TimeProvider.System;
    private readonly Random _random;
    private readonly HttpClient[] _clients;
    private readonly HttpClient _forgedClient;
    private readonly HttpClient _management;
    private readonly Revoker _revoker;
    private readonly Channel<Exchange> _records = Channel.CreateUnbounded<Exchange>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<string, int> _tally = new(StringComparer.Ordinal);
    private readonly string _runNonce;
    private readonly (string Kind, double Weight)[] _mix;
    private readonly double _totalWeight;
    private long _sequence;

    private Driver(DriverOptions options)
    {
        _options = options;
        _random = new Random(options.Seed);
        _runNonce = Convert.ToHexStringLower(BitConverter.GetBytes(_time.GetUtcNow().UtcTicks ^ Environment.ProcessId));
        _clients = [.. options.Sources.Select(Client)];
        _forgedClient = Client(options.ForgedSource);
        _management = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        _revoker = new Revoker(options.Revoker, _management, _time, Console.Error);
        _mix = options.Mix ?? DefaultMix;
        _totalWeight = _mix.Sum(m => m.Weight);
    }

    public static async Task<int> RunAsync(Arguments args)
    {
        var options = DriverOptions.From(args);
        await using var driver = new Driver(options);
        return await driver.RunAsync();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients)
        {
            client.Dispose();
        }

        _forgedClient.Dispose();
        _management.Dispose();
        await Task.CompletedTask;
    }

    private async Task<int> RunAsync()
    {
        Directory.CreateDirectory(_options.Out);
        await using var responses = new StreamWriter(Path.Join(_options.Out, "responses.tsv"));
        await using var sets = new StreamWriter(Path.Join(_options.Out, "sets.tsv")) { AutoFlush = true };
        await responses.WriteLineAsync(Exchange.Header);
        await sets.WriteLineAsync(SetDelivery.Header);
        var writer = Task.Run(() => WriteAsync(responses));

        await _revoker.StartAsync(CancellationToken.None);
        var preflight = await PreflightAsync();
        if (preflight > 0)
        {
            _records.Writer.Complete();
            await writer;
            await Console.Error.WriteLineAsync($"preflight: {preflight} of {_mix.Length} request kinds were not answered as expected; not starting the soak");
            return 3;
        }

        await Console.Error.WriteLineAsync(
            $"driving {_options.Rate} req/s for at most {_options.Duration} (stop file {_options.StopFile}), at most {_options.Concurrency} in flight; mix "
            + string.Join(", ", _mix.Select(m => $"{m.Kind} {m.Weight / _totalWeight:P0}")));

        using var stopRevoker = new CancellationTokenSource();
        var revoker = Task.Run(() => _revoker.RunAsync(sets, stopRevoker.Token));
        var stalls = await ScheduleAsync();

        await stopRevoker.CancelAsync();
        await revoker;
        _records.Writer.Complete();
        await writer;

        await Console.Error.WriteLineAsync($"sent {_sequence} requests ({stalls} waited for a free slot); SETs acknowledged {_revoker.Acknowledged}, failed attempts {_revoker.Failed}");
        foreach (var (key, count) in _tally.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            await Console.Error.WriteLineAsync($"  {key,-45} {count,9}");
        }

        return 0;
    }

    // One request of each kind, one after the other: a setup that refuses the wrong things is not worth soaking.
    private async Task<int> PreflightAsync()
    {
        var failures = 0;
        foreach (var (kind, _) in _mix)
        {
            var exchange = await SendAsync(kind);
            var expected = kind switch
            {
                Kinds.Allow or Kinds.Distinct or Kinds.Revokee => exchange.Status == 200,
                Kinds.Segment => exchange is { Status: 403, Reason: "segment-not-allowed" },
                Kinds.StepUp => exchange is { Status: 401, Reason: "mfa-required" },
                Kinds.Missing => exchange is { Status: 401, Reason: "token-missing" },
                Kinds.Forged => exchange is { Status: 401, Reason: "token-invalid" } or { Status: 429, Reason: "rate-limited" },
                Kinds.Dead => exchange is { Status: 502 or 503, Reason: "upstream-unavailable" },
                _ => false,
            };
            await Console.Error.WriteLineAsync($"preflight {kind,-9} {exchange.Status} {exchange.Reason} {exchange.Error}{(expected ? string.Empty : "  <- not expected")}");
            failures += expected ? 0 : 1;
        }

        return failures;
    }

    private async Task<long> ScheduleAsync()
    {
        using var gate = new SemaphoreSlim(_options.Concurrency);
        var inFlight = new ConcurrentDictionary<long, Task>();
        var clock = Stopwatch.StartNew();
        long issued = 0, stalls = 0;
        using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(10), _time);
        var nextStopCheck = TimeSpan.Zero;
        while (await tick.WaitForNextTickAsync())
        {
            var elapsed = clock.Elapsed;
            if (elapsed >= _options.Duration)
            {
                break;
            }

            if (elapsed >= nextStopCheck)
            {
                nextStopCheck = elapsed + TimeSpan.FromMilliseconds(200);
                if (_options.StopFile is not null && File.Exists(_options.StopFile))
                {
                    break;
                }
            }

            var due = (long)(elapsed.TotalSeconds * _options.Rate);
            for (; issued < due; issued++)
            {
                var wait = gate.WaitAsync();
                if (!wait.IsCompleted)
                {
                    stalls++;
                }

                await wait;
                var kind = PickKind();
                var id = issued;
                inFlight[id] = Task.Run(async () =>
                {
                    try
                    {
                        await SendAsync(kind);
                    }
                    finally
                    {
                        gate.Release();
                        inFlight.TryRemove(id, out _);
                    }
                });
            }
        }

        await Task.WhenAll(inFlight.Values);
        return stalls;
    }

    private string PickKind()
    {
        double roll;
        lock (_random)
        {
            roll = _random.NextDouble() * _totalWeight;
        }

        foreach (var (kind, weight) in _mix)
        {
            roll -= weight;
            if (roll < 0)
            {
                return kind;
            }
        }

        return _mix[^1].Kind;
    }

    private async Task<Exchange> SendAsync(string kind)
    {
        var sequence = Interlocked.Increment(ref _sequence);
        var traceId = _runNonce + sequence.ToString("x16", CultureInfo.InvariantCulture);
        var material = _options.Material;
        var client = kind == Kinds.Forged ? _forgedClient : _clients[sequence % _clients.Length];
        var token = -1;
        string? bearer;
        var posture = material.Posture;
        Uri target;
        lock (_random)
        {
            (bearer, target) = kind switch
            {
                Kinds.Allow => (material.Alice, new Uri(_options.Finance, "/ledger/" + sequence)),
                Kinds.Distinct => (material.Distinct[_random.Next(material.Distinct.Length)], new Uri(_options.Finance, "/ledger/" + sequence)),
                Kinds.Segment => (material.Alice, new Uri(_options.Hr, "/payroll/" + sequence)),
                Kinds.StepUp => (material.NoMfa, new Uri(_options.Finance, "/ledger/" + sequence)),
                Kinds.Missing => (null, new Uri(_options.Finance, "/ledger/" + sequence)),
                Kinds.Forged => (material.Forged[_random.Next(material.Forged.Length)], new Uri(_options.Finance, "/ledger/" + sequence)),
                Kinds.Revokee => (null, new Uri(_options.Finance, "/ledger/" + sequence)),
                Kinds.Dead => (material.Alice, new Uri(_options.Finance, "/vault/" + sequence)),
                _ => throw new InvalidOperationException("unknown kind " + kind),
            };

            if (kind == Kinds.Revokee)
            {
                var current = _revoker.Current!;
                var again = _random.NextDouble() < 0.5 ? _revoker.PickRevoked(_random) : null;
                (token, bearer) = again ?? (current.Index, current.Token);
            }
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, target);
        request.Headers.TryAddWithoutValidation("traceparent", "00-" + traceId + "-" + (sequence + 1).ToString("x16", CultureInfo.InvariantCulture) + "-01");
        if (bearer is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + bearer);
        }

        request.Headers.TryAddWithoutValidation("X-Device-Posture", posture);

        var start = Clock.NowUs(_time);
        int status = 0;
        string reason = string.Empty, decisionId = string.Empty, answeredTrace = string.Empty, error = string.Empty;
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            using var response = await client.SendAsync(request, timeout.Token);
            var body = await response.Content.ReadAsStringAsync(timeout.Token);
            status = (int)response.StatusCode;
            if (response.Content.Headers.ContentType?.MediaType == "application/problem+json")
            {
                (reason, decisionId, answeredTrace) = Problem(body);
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException)
        {
            status = 0;
            error = Clock.Describe(ex);
        }

        var exchange = new Exchange
        {
            Sequence = sequence,
            Kind = kind,
            Source = kind == Kinds.Forged ? _options.ForgedSource.ToString() : _options.Sources[sequence % _clients.Length].ToString(),
            Token = token,
            StartUs = start,
            EndUs = Clock.NowUs(_time),
            Status = status,
            Reason = reason,
            DecisionId = decisionId,
            TraceId = traceId,
            AnsweredTraceId = answeredTrace,
            Error = error,
        };
        _tally.AddOrUpdate($"{kind} {(status == 0 ? "no answer" : status.ToString(CultureInfo.InvariantCulture))} {reason}", 1, (_, n) => n + 1);
        _records.Writer.TryWrite(exchange);
        return exchange;
    }

    private static (string Reason, string DecisionId, string TraceId) Problem(string body)
    {
        try
        {
            using var json = JsonDocument.Parse(body);
            var root = json.RootElement;
            return (Field(root, "reason"), Field(root, "decisionId"), Field(root, "traceId"));
        }
        catch (JsonException)
        {
            return ("unreadable-problem", string.Empty, string.Empty);
        }

        static string Field(JsonElement root, string name) =>
            root.ValueKind == JsonValueKind.Object && root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
                ? value.GetString()! : string.Empty;
    }

    private async Task WriteAsync(StreamWriter responses)
    {
        var lastFlush = Stopwatch.StartNew();
        await foreach (var exchange in _records.Reader.ReadAllAsync())
        {
            await responses.WriteLineAsync(exchange.Format());
            if (lastFlush.ElapsedMilliseconds > 1000)
            {
                await responses.FlushAsync();
                lastFlush.Restart();
            }
        }

        await responses.FlushAsync();
    }

    // One connection pool per client address: the gateway sees each as its own source.
    private static HttpClient Client(IPAddress source) => new(new SocketsHttpHandler
    {
        UseProxy = false,
        AllowAutoRedirect = false,
        UseCookies = false,
        ConnectTimeout = TimeSpan.FromSeconds(5),
        PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
        ConnectCallback = async (context, cancellationToken) =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                socket.Bind(new IPEndPoint(source, 0));
                await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    })
    { Timeout = Timeout.InfiniteTimeSpan };
}

/// <summary>The command line of <c>drive</c>.</summary>
internal sealed record DriverOptions
{
    public required Uri Finance { get; init; }

    public required Uri Hr { get; init; }

    public required double Rate { get; init; }

    public required int Concurrency { get; init; }

    public required TimeSpan Duration { get; init; }

    public required string? StopFile { get; init; }

    public required string Out { get; init; }

    public required IPAddress[] Sources { get; init; }

    public required IPAddress ForgedSource { get; init; }

    public required Material Material { get; init; }

    public required RevokerOptions Revoker { get; init; }

    public required int Seed { get; init; }

    public required (string Kind, double Weight)[]? Mix { get; init; }

    public static DriverOptions From(Arguments args)
    {
        var sources = (int)args.Number("sources", 8);
        var material = args.Text("material");
        var management = new Uri(args.Text("management"));
        return new DriverOptions
        {
            Finance = new Uri(args.Text("finance")),
            Hr = new Uri(args.Text("hr")),
            Rate = args.Number("rate", 300),
            Concurrency = (int)args.Number("concurrency", 32),
            Duration = args.Duration("duration", TimeSpan.FromMinutes(10)),
            StopFile = args.Optional("stop-file"),
            Out = args.Text("out"),
            // Refusals from one address stay well under a per-source refusal limit: only the forged flood should meet it.
            Sources = [.. Enumerable.Range(1, sources).Select(i => IPAddress.Parse("127.0.1." + i))],
            ForgedSource = IPAddress.Parse(args.Text("forged-source", "127.0.0.2")),
            Material = Material.Load(material),
            Revoker = new RevokerOptions
            {
                Ztgw = args.Text("ztgw"),
                Config = args.Text("config"),
                Subject = args.Text("revokee", "carol"),
                Groups = args.Text("revokee-groups", "finance-staff"),
                Management = new Uri(management, "/ssf/events"),
                Every = args.Duration("set-every", TimeSpan.FromSeconds(5)),
            },
            Seed = (int)args.Number("seed", 1),
            Mix = args.Optional("mix") is { } mix ? ParseMix(mix) : null,
        };
    }

    // allow=30,forged=20,...: weights, not necessarily summing to 100.
    private static (string, double)[] ParseMix(string text) =>
    [
        .. text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(part =>
        {
            var pair = part.Split('=');
            return pair.Length == 2 && double.TryParse(pair[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var weight) && weight > 0
                ? (pair[0], weight)
                : throw new ArgumentException($"--mix: '{part}' is not kind=weight");
        }),
    ];
}

/// <summary>The credentials the script minted: files in the material folder.</summary>
internal sealed record Material(string Alice, string[] Distinct, string[] Forged, string NoMfa, string Posture)
{
    public static Material Load(string folder)
    {
        string One(string name) => File.ReadAllText(Path.Join(folder, name)).Trim();
        var distinct = File.ReadAllLines(Path.Join(folder, "distinct.txt")).Where(l => l.Length > 0).ToArray();
        if (distinct.Length == 0)
        {
            throw new ArgumentException("distinct.txt holds no token");
        }

        return new Material(One("alice.jwt"), distinct, [.. distinct.Select(Forge)], One("nomfa.jwt"), One("posture.jwt"));
    }

    // The same header and claims with a signature that is one character off: well-formed, signed by nobody.
    private static string Forge(string token)
    {
        var dot = token.LastIndexOf('.');
        var at = dot + (token.Length - dot) / 2;
        var chars = token.ToCharArray();
        chars[at] = chars[at] == 'A' ? 'B' : 'A';
        return new string(chars);
    }
}
