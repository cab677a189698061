using ZtGateway.Audit;
using ZtGateway.Enforcement.Assertion;
using ZtGateway.Enforcement.Exchanges;
using ZtGateway.Enforcement.Model;
using ZtGateway.Enforcement.Refusals;
using ZtGateway.Enforcement.SignIn;
using ZtGateway.Management;
using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Engine;
using ZtGateway.Policy.Loading;
using ZtGateway.Runtime;
using ZtGateway.Sources.Continuous;
using ZtGateway.Sources.Continuous.Shared;
using ZtGateway.Sources.Detection;
using ZtGateway.Sources.Detection.Shared;
using ZtGateway.Sources.Device;
using ZtGateway.Sources.Identity;
using ZtGateway.Sources.Signals;
using ZtGateway.Telemetry;

namespace ZtGateway.Hosting;

/// <summary>
/// A running gateway: the validated policy, one listener per served segment, and the watcher that
/// reloads the policy. An invalid policy at start opens no port at all.
/// </summary>
internal sealed partial class GatewayHost : IAsyncDisposable, IGatewayStatus
{
    private readonly GatewayHostOptions _options;
    private readonly ILoggerFactory _loggerFactory;
    private readonly bool _ownsLoggerFactory;
    private readonly ILogger _logger;
    private readonly List<SegmentListener> _listeners = [];
    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _reloadLock = new(1, 1);
    private readonly List<Task> _retiring = [];
    private RateLimitTally? _tally;
    private AuditSpool? _spool;
    private Task _watcher = Task.CompletedTask;
    private ManagementListener? _management;
    private ContinuousEvaluation? _continuous;
    private RedisStateShare? _share;
    private SessionKeyRing? _sessionKeys;
    private LateralMovementDetector? _detector;
    private SignalReceiver? _signals;
    private ExchangeRegistry? _exchanges;
    private volatile string[] _openSegments = [];

    private GatewayHost(GatewayHostOptions options, ILoggerFactory loggerFactory, bool ownsLoggerFactory, GatewayStateHolder state,
        GatewayTelemetry telemetry)
    {
        _options = options;
        _loggerFactory = loggerFactory;
        _ownsLoggerFactory = ownsLoggerFactory;
        _logger = loggerFactory.CreateLogger("ZtGateway.Host");
        State = state;
        Telemetry = telemetry;
    }

    public GatewayStateHolder State { get; }

    /// <summary>Traces and metrics of this process, shared by all its listeners.</summary>
    public GatewayTelemetry Telemetry { get; }

    /// <summary>Bound address of the management listener; null when it is disabled.</summary>
    public Uri? ManagementAddress => _management?.Address;

    public IReadOnlyCollection<string> OpenSegments => _openSegments;

    /// <summary>Continuous evaluation of this gateway (revocations, quarantines, the changes other gateways shared).</summary>
    public ContinuousEvaluation Continuous => _continuous ?? throw new InvalidOperationException("The gateway is not started.");

    public SharedStateStatus? SharedState => _share is not { } share
        ? null
        : new SharedStateStatus(share.Connected, share.Connected
            ? $"{share.Settings.RedactedRedis} (prefix {share.Settings.Prefix})"
            : $"{share.Settings.RedactedRedis} is unreachable; serving with the state this gateway holds");

    /// <summary>Bound address of each served segment's listener.</summary>
    public IReadOnlyDictionary<string, Uri> Listeners => _listeners.ToDictionary(l => l.Segment, l => l.Addresses[0], StringComparer.Ordinal);

    /// <summary>
    /// Loads and validates the policy, then opens the listeners. Returns the diagnostics and no host when
    /// the policy is invalid or a listener cannot be opened.
    /// </summary>
    public static async Task<(GatewayHost? Host, IReadOnlyList<Diagnostic> Diagnostics)> StartAsync(
        GatewayHostOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var configPath = Path.GetFullPath(options.ConfigPath);
        options = options with { ConfigPath = configPath };

        var ownsLoggerFactory = options.LoggerFactory is null;
        var loggerFactory = options.LoggerFactory ?? ConsoleLogging.Create();
        var logger = loggerFactory.CreateLogger("ZtGateway.Host");

        var loaded = PolicyLoader.Load(configPath, options.TimeProvider);
        if (!loaded.Succeeded)
        {
            if (ownsLoggerFactory)
            {
                loggerFactory.Dispose();
            }

            return (null, loaded.Diagnostics);
        }

        var policy = loaded.Policy!;
        foreach (var warning in loaded.Diagnostics)
        {
            Log.PolicyWarning(logger, warning.Format());
        }

        var segments = SelectSegments(policy, options.Segment);
        if (segments is null)
        {
            if (ownsLoggerFactory)
            {
                loggerFactory.Dispose();
            }

            var location = new SourceLocation(configPath, 1, 1);
            return (null, [new Diagnostic(DiagnosticSeverity.Error, location, $"--segment '{options.Segment}' is not a segment of this policy")]);
        }

        AssertionIssuer assertions;
        try
        {
            assertions = AssertionIssuer.Load(policy.Gateway.Assertion, options.TimeProvider);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or InvalidOperationException or System.Security.Cryptography.CryptographicException)
        {
            if (ownsLoggerFactory)
            {
                loggerFactory.Dispose();
            }

            var location = new SourceLocation(configPath, 1, 1);
            return (null, [new Diagnostic(DiagnosticSeverity.Error, location, $"assertion.signingKeyFile {policy.Gateway.Assertion.SigningKeyFile}: {ex.Message}")]);
        }

        // Audit lines are committed where a crash cannot take them before the sinks have them (decision 0007).
        var spoolSettings = policy.Gateway.Audit.Spool;
        var spoolPath = spoolSettings.PathIn(policy.Gateway.Gateway.StateDir);
        AuditSpool spool;
        try
        {
            spool = AuditSpool.Open(spoolPath, spoolSettings.Size, loggerFactory.CreateLogger("ZtGateway.Audit"));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            assertions.Dispose();
            if (ownsLoggerFactory)
            {
                loggerFactory.Dispose();
            }

            var location = new SourceLocation(configPath, 1, 1);
            var what = spoolSettings.Path is null ? "gateway.stateDir " + policy.Gateway.Gateway.StateDir : "audit.spool.path " + spoolPath;
            return (null, [new Diagnostic(DiagnosticSeverity.Error, location, $"{what}: {ex.Message}")]);
        }

        RateLimitTally tally;
        try
        {
            // Rate-limited windows are counted where a crash cannot take them (the state folder).
            tally = RateLimitTally.Open(policy.Gateway.Gateway.StateDir, RefusalLimiterOptions.From(policy.Gateway.Gateway.Limits).MaxOpenWindows);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            spool.Dispose();
            assertions.Dispose();
            if (ownsLoggerFactory)
            {
                loggerFactory.Dispose();
            }

            var location = new SourceLocation(configPath, 1, 1);
            return (null, [new Diagnostic(DiagnosticSeverity.Error, location, $"gateway.stateDir {policy.Gateway.Gateway.StateDir}: {ex.Message}")]);
        }

        var state = new GatewayStateHolder(BuildState(policy, options, loggerFactory, assertions, tally, spool));

        // What a crash left in the spool reaches the sinks first, before the windows of the tally and any request.
        var spooled = spool.Recover(state.Current.Audit);
        if (spooled.Ran)
        {
            Log.SpoolRecovered(logger, spoolPath, spooled.Lines);
        }

        var recovered = tally.Recover(window => state.Current.Audit.RecordRateLimited(new RateLimitedEvent
        {
            DecisionId = window.DecisionId,
            Start = window.Start,
            End = window.End,
            Count = window.Count,
            Segment = window.Segment,
            ClientAddress = window.Address,
            Source = window.Address?.ToString() ?? "unknown",
            PolicyVersion = window.PolicyVersion,
        }));
        if (recovered > 0)
        {
            Log.WindowsRecovered(logger, recovered);
        }

        var telemetry = GatewayTelemetry.Create(policy.Gateway.Telemetry, string.Join(',', segments.Select(s => s.Name)),
            processMeters: [AuditTrail.MeterName, RedisStateShare.MeterName, ExchangeRegistry.MeterName]);
        if (telemetry.Export is { } export)
        {
            Log.TracesExported(logger, export.Description);
        }

        var host = new GatewayHost(options, loggerFactory, ownsLoggerFactory, state, telemetry) { _tally = tally, _spool = spool };
        var live = new LivePolicy(state);
        try
        {
            // Revocations and quarantines outlive policy reloads; a gateway that cannot keep them does not start.
            host._continuous = ContinuousEvaluation.Open(live, options.TimeProvider, loggerFactory);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            await host.DisposeAsync();
            var location = new SourceLocation(configPath, 1, 1);
            return (null, [new Diagnostic(DiagnosticSeverity.Error, location, $"gateway.stateDir {policy.Gateway.Gateway.StateDir}: {ex.Message}")]);
        }

        // The feeds of continuous evaluation: the detector starts from the baseline the state file kept.
        host._detector = new LateralMovementDetector(() => live.Gateway.Detection, new ContinuousOutlet(host._continuous, live, options.TimeProvider),
            options.TimeProvider, loggerFactory.CreateLogger("ZtGateway.Detection"), host._continuous.LearningSince, host._continuous.LearnedPairs);
        host._signals = new SignalReceiver(live, host._continuous, options.TimeProvider, options.Backchannel, loggerFactory.CreateLogger("ZtGateway.Signals"));

        // One memory for every gateway naming the same Redis: an unreachable Redis is an outage, not a refused start.
        // Started once the detector exists, so that every pair another gateway learned reaches it.
        if (policy.Gateway.Gateway.SharedState is { } shared)
        {
            host._continuous.RemoteApplied += host._detector.Learn;
            try
            {
                host._share = await RedisStateShare.StartAsync(shared, host._continuous, options.TimeProvider, loggerFactory, options.SharedStatePoll,
                    options.SharedStateCompactAbove);
                host._detector.Share(new RedisDetectionWindows(host._share));
            }
            catch (Exception ex) when (ex is ArgumentException or StackExchange.Redis.RedisException)
            {
                // A configuration the client refuses (an unreachable Redis is not one: it is an outage, served through).
                await host.DisposeAsync();
                return (null, [new Diagnostic(DiagnosticSeverity.Error, shared.Location ?? new SourceLocation(configPath, 1, 1),
                    $"gateway.sharedState {shared.RedactedRedis}: {ex.Message}")]);
            }
        }

        // Browser sign-in: the client secret and the sessions' key ring, when a served segment signs people in.
        SignInContext? signIn = null;
        if (policy.Gateway.SignIn is { } signInSettings && segments.Any(s => s.SignIn))
        {
            var (context, problem) = ReadSignIn(policy, signInSettings, policy.Gateway.Gateway.StateDir, host._share);
            if (context is null)
            {
                await host.DisposeAsync();
                return (null, [new Diagnostic(DiagnosticSeverity.Error, signInSettings.Location == SourceLocation.None
                    ? new SourceLocation(configPath, 1, 1) : signInSettings.Location, problem!)]);
            }

            host._sessionKeys = context.Value.Keys;
            signIn = context.Value.Context;
            Log.SignInReady(logger, signIn.ToString(), host._sessionKeys.Where);
        }

        // Every open exchange of every listener, decided again when continuous evaluation or the policy changes.
        host._exchanges = new ExchangeRegistry(state, host._continuous, options.TimeProvider, loggerFactory.CreateLogger("ZtGateway.Exchanges"));
        try
        {
            foreach (var segment in segments)
            {
                var listener = SegmentListener.Create(segment, state, options.TimeProvider, loggerFactory, Path.GetDirectoryName(configPath)!,
                    telemetry, options.Resilience, host._continuous, host._detector, host._exchanges, signIn);
                host._listeners.Add(listener);
                await listener.StartAsync(cancellationToken);
                var addresses = string.Join(", ", listener.Addresses);
                Log.ListenerStarted(logger, segment.Name, addresses);
                host._openSegments = [.. host._openSegments, segment.Name];
            }

            var management = policy.Gateway.Gateway.Management.Listen;
            if (!string.IsNullOrEmpty(management))
            {
                host._management = ManagementListener.Create(management, state, host, options.TimeProvider, loggerFactory, Path.GetDirectoryName(configPath)!,
                    telemetry, host._continuous, host._signals);
                await host._management.StartAsync(cancellationToken);
                Log.ManagementStarted(logger, host._management.Address?.ToString() ?? management);
            }
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or System.Net.Sockets.SocketException)
        {
            await host.DisposeAsync();
            var location = new SourceLocation(configPath, 1, 1);
            return (null, [new Diagnostic(DiagnosticSeverity.Error, location, "cannot open a segment listener: " + ex.Message)]);
        }

        Log.PolicyLoaded(logger, policy.Version, policy.Segments.Count);
        state.Current.Audit.RecordPolicyChange(PolicyChangeRecords.Started(loaded, options.TimeProvider));
        if (options.WatchForChanges)
        {
            host._watcher = Task.Run(() => host.WatchAsync(host._stopping.Token), CancellationToken.None);
        }

        return (host, loaded.Diagnostics);
    }

    /// <summary>
    /// Reads the policy again; a valid one replaces the live state atomically, an invalid one is logged in
    /// full and the last good policy keeps serving. Either way one audit line records it, in the sinks of the policy
    /// in force afterwards.
    /// </summary>
    public async Task<PolicyLoadResult> ReloadAsync()
    {
        await _reloadLock.WaitAsync();
        try
        {
            var loaded = PolicyLoader.Load(_options.ConfigPath, _options.TimeProvider);
            if (!loaded.Succeeded)
            {
                foreach (var diagnostic in loaded.Diagnostics)
                {
                    Log.ReloadDiagnostic(_logger, diagnostic.Format());
                }

                Log.ReloadRejected(_logger, State.Current.Policy.Version);
                State.Current.Audit.RecordPolicyChange(
                    PolicyChangeRecords.Refused(State.Current.Policy.Version, loaded, PolicyChangeRecords.PolicyInvalid, _options.TimeProvider));
                return loaded;
            }

            var policy = loaded.Policy!;
            var listenerProblem = ListenerChange(State.Current.Policy, policy) ?? SpoolChange(State.Current.Policy, policy)
                ?? SignInChange(State.Current.Policy, policy);
            if (listenerProblem is not null)
            {
                var diagnostic = new Diagnostic(DiagnosticSeverity.Error, listenerProblem.Value.Location, listenerProblem.Value.Message);
                Log.ReloadDiagnostic(_logger, diagnostic.Format());
                Log.ReloadRejected(_logger, State.Current.Policy.Version);
                var refused = loaded with { Policy = null, Diagnostics = [.. loaded.Diagnostics, diagnostic] };
                State.Current.Audit.RecordPolicyChange(
                    PolicyChangeRecords.Refused(State.Current.Policy.Version, refused, PolicyChangeRecords.RestartRequired, _options.TimeProvider));
                return refused;
            }

            // Clusters first, so a service the new policy allows is routable the moment the policy is live.
            foreach (var listener in _listeners)
            {
                listener.Update(policy.Segments[listener.Segment]);
            }

            var assertions = State.Current.Assertions;
            if (assertions.Settings != policy.Gateway.Assertion)
            {
                // The signing key is the process's identity towards upstreams; it changes only with a restart.
                Log.AssertionChangeIgnored(_logger);
            }

            if (Telemetry.Settings != policy.Gateway.Telemetry)
            {
                Log.TelemetryChangeIgnored(_logger);
            }

            var previous = State.Swap(BuildState(policy, _options, _loggerFactory, assertions, _tally, _spool!, State.Current.Tokens));
            RetireLater(previous);
            _exchanges?.RequestReview();
            Log.PolicyLoaded(_logger, policy.Version, policy.Segments.Count);

            // After the swap: the new policy serves while the change is compared, and its sinks get the line.
            State.Current.Audit.RecordPolicyChange(PolicyChangeRecords.Applied(previous.Policy, loaded, _options.TimeProvider, _logger));
            return loaded;
        }
        finally
        {
            _reloadLock.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        try
        {
            await _watcher;
        }
        catch (OperationCanceledException)
        {
        }

        foreach (var listener in _listeners)
        {
            await listener.DisposeAsync();
        }

        if (_management is not null)
        {
            await _management.DisposeAsync();
        }

        _exchanges?.Dispose();

        Task[] retiring;
        lock (_retiring)
        {
            retiring = [.. _retiring];
        }

        // The stopping token ended their wait: earlier states are disposed now, their last audit lines written.
        await Task.WhenAll(retiring);

        // After the listeners, so that the spans of their last requests are flushed.
        Telemetry.Dispose();
        if (_detector is not null)
        {
            await _detector.DisposeAsync();
        }

        _signals?.Dispose();
        _sessionKeys?.Dispose();
        if (_share is not null)
        {
            await _share.DisposeAsync();
        }

        _continuous?.Dispose();

        State.Current.Dispose();
        State.Current.Assertions.Dispose();
        _tally?.Dispose();

        // Last: every line committed until now goes to the sinks before the spool is marked closed cleanly.
        _spool?.Dispose();
        _stopping.Dispose();
        _reloadLock.Dispose();
        if (_ownsLoggerFactory)
        {
            _loggerFactory.Dispose();
        }
    }

    private static GatewayState BuildState(PolicySet policy, GatewayHostOptions options, ILoggerFactory loggerFactory, AssertionIssuer assertions,
        RateLimitTally? tally, AuditSpool spool, ITokenValidator? previousTokens = null)
    {
        var gateway = policy.Gateway;
        var audit = new AuditTrail(gateway.Audit, spool, loggerFactory.CreateLogger("ZtGateway.Audit"), gateway.Telemetry.ServiceName);
        return new GatewayState(
            new PolicyEngine(policy, options.TimeProvider),
            new CachingTokenValidator(
                TokenValidator.Start(gateway.Identity, options.TimeProvider, options.Backchannel, loggerFactory.CreateLogger("ZtGateway.Identity"),
                    (previousTokens as CachingTokenValidator)?.Inner ?? previousTokens),
                options.TimeProvider),
            new DevicePostureVerifier(gateway.Device, gateway.Identity.ClockSkew, options.TimeProvider, options.Backchannel, loggerFactory.CreateLogger("ZtGateway.Device")),
            assertions,
            audit,
            new RefusalLimiter(RefusalLimiterOptions.From(gateway.Gateway.Limits), audit, policy.Version, options.TimeProvider,
                loggerFactory.CreateLogger("ZtGateway.Enforcement"), tally));
    }

    private static List<SegmentConfig>? SelectSegments(PolicySet policy, string segment)
    {
        if (segment.Equals("all", StringComparison.Ordinal))
        {
            return [.. policy.Segments.Values.OrderBy(s => s.Name, StringComparer.Ordinal)];
        }

        return policy.Segments.TryGetValue(segment, out var one) ? [one] : null;
    }

    /// <summary>Returns once every audit line committed before the call reached the <c>stdout</c> and <c>file:</c> sinks.</summary>
    internal void FlushAudit() => _spool?.Flush();

    // The sign-in client's secret and the key ring are read once per process; a start without them does not happen.
    private static ((SignInContext Context, SessionKeyRing Keys)? Value, string? Problem) ReadSignIn(PolicySet policy, SignInSettings settings,
        string stateDir, RedisStateShare? share)
    {
        var issuer = policy.Gateway.Identity.Issuers.FirstOrDefault(i => string.Equals(i.Name, settings.Issuer, StringComparison.Ordinal));
        if (issuer is null || issuer.Type is not (IssuerType.Oidc or IssuerType.Entra))
        {
            return (null, $"signIn.issuer '{settings.Issuer}' is not an identity.issuers entry of type oidc or entra");
        }

        // The same reading the loader checked the file with.
        var (secret, problem) = SecretFiles.Read(settings.ClientSecretFile);
        if (secret is null)
        {
            return (null, $"signIn.clientSecretFile {settings.ClientSecretFile} {problem}");
        }

        try
        {
            var keys = SessionKeyRing.Open(stateDir, share);
            return ((new SignInContext(settings, issuer, secret, keys.Provider), keys), null);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return (null, $"gateway.stateDir {stateDir}: cannot keep the session keys: {ex.Message}");
        }
    }

    // Sign-in is set up when the listeners open; a reload that changes it needs a restart.
    private static (SourceLocation Location, string Message)? SignInChange(PolicySet current, PolicySet next)
    {
        var (now, then) = (current.Gateway.SignIn, next.Gateway.SignIn);
        var same = (now is null && then is null)
            || (now is not null && then is not null && now.Issuer == then.Issuer && now.ClientId == then.ClientId
                && now.ClientSecretFile == then.ClientSecretFile && now.SessionLifetime == then.SessionLifetime && now.Scopes.SequenceEqual(then.Scopes));
        if (!same)
        {
            return (then?.Location ?? now?.Location ?? new SourceLocation(next.Gateway.FilePath, 1, 1), "signIn changed; restart the gateway to apply it");
        }

        foreach (var (name, segment) in next.Segments)
        {
            if (current.Segments.TryGetValue(name, out var before) && before.SignIn != segment.SignIn)
            {
                return (segment.Location, $"segment '{name}': signIn changed; restart the gateway to apply it to its listener");
            }
        }

        return null;
    }

    // The spool is opened once per process, like the listeners.
    private static (SourceLocation Location, string Message)? SpoolChange(PolicySet current, PolicySet next)
    {
        var (now, then) = (current.Gateway.Audit.Spool, next.Gateway.Audit.Spool);
        return now.SameSpool(then) ? null
            : (then.Location ?? now.Location ?? new SourceLocation(next.Gateway.FilePath, 1, 1), "audit.spool changed; restart the gateway to apply it");
    }

    // Listeners are opened once per process; a reload that would move or drop one needs a restart.
    private (SourceLocation Location, string Message)? ListenerChange(PolicySet current, PolicySet next)
    {
        // The device CA joins the handshake trust of every listener that asks for client certificates when it opens.
        var (devicesNow, devicesNext) = (current.Gateway.Device.Certificates, next.Gateway.Device.Certificates);
        if (devicesNow?.Ca.Path != devicesNext?.Ca.Path && _listeners.Any(l => next.Segments.TryGetValue(l.Segment, out var s)
                && s.Tls is { ClientCertificates: not ClientCertificateRequirement.None }))
        {
            return (devicesNext?.Location ?? devicesNow?.Location ?? new SourceLocation(next.Gateway.FilePath, 1, 1),
                "device.certificates.ca changed; restart the gateway to apply it to the listeners that ask for client certificates");
        }

        foreach (var listener in _listeners)
        {
            if (!next.Segments.TryGetValue(listener.Segment, out var segment))
            {
                return (new SourceLocation(next.Gateway.FilePath, 1, 1), $"segment '{listener.Segment}' was removed; restart the gateway to close its listener");
            }

            if (!string.Equals(segment.Listen, current.Segments[listener.Segment].Listen, StringComparison.Ordinal))
            {
                return (segment.Location, $"segment '{segment.Name}': listen changed; restart the gateway to move its listener");
            }

            // What a handshake offers is fixed when the listener opens; only the content of its files follows them.
            if (ListenerTransportChange(current.Segments[listener.Segment], segment) is { } what)
            {
                return (segment.Tls?.Location ?? segment.Location, $"segment '{segment.Name}': {what} changed; restart the gateway to apply it to its listener");
            }
        }

        return null;
    }

    private static string? ListenerTransportChange(SegmentConfig current, SegmentConfig next)
    {
        if (current.Protocols != next.Protocols)
        {
            return "protocols";
        }

        var (a, b) = (current.Tls, next.Tls);
        if (a is null || b is null)
        {
            return a == b ? null : "tls";
        }

        return a.Certificate.Path != b.Certificate.Path || a.Key.Path != b.Key.Path ? "tls.certificate or tls.key"
            : a.ClientCertificates != b.ClientCertificates ? "tls.clientCertificates"
            : a.ClientCa?.Path != b.ClientCa?.Path ? "tls.clientCA"
            : a.MinVersion != b.MinVersion ? "tls.minVersion"
            : null;
    }

    private async Task WatchAsync(CancellationToken cancellationToken)
    {
        var fingerprint = PolicyFiles.Fingerprint(State.Current.Policy.Gateway);
        using var timer = new PeriodicTimer(_options.WatchInterval);
        while (await timer.WaitForNextTickAsync(cancellationToken))
        {
            // Certificates, keys and CA bundles follow their files on their own, without a policy reload.
            foreach (var listener in _listeners)
            {
                listener.RefreshTransport();
            }

            var now = PolicyFiles.Fingerprint(State.Current.Policy.Gateway);
            if (now == fingerprint)
            {
                continue;
            }

            fingerprint = now;
            try
            {
                await ReloadAsync();
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // A reload must never take the gateway down; the last good policy keeps serving.
                Log.ReloadFailed(_logger, ex);
            }
        }
    }

    // Requests in flight may still hold the previous state: it is disposed 30 s later, or at once when the host
    // stops, so that what it still holds (the last second of aggregated audit lines) is always written.
    private void RetireLater(GatewayState previous)
    {
        var retiring = RetireAsync(previous, _stopping.Token);
        lock (_retiring)
        {
            _retiring.Add(retiring);
            _retiring.RemoveAll(t => t.IsCompleted);
        }
    }

    private static async Task RetireAsync(GatewayState previous, CancellationToken stopping)
    {
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(30), stopping);
        }
        catch (OperationCanceledException)
        {
        }

        previous.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "Policy {Version} loaded with {Segments} segments")]
        public static partial void PolicyLoaded(ILogger logger, string version, int segments);

        [LoggerMessage(EventId = 101, Level = LogLevel.Warning, Message = "{Diagnostic}")]
        public static partial void PolicyWarning(ILogger logger, string diagnostic);

        [LoggerMessage(EventId = 102, Level = LogLevel.Error, Message = "Policy reload: {Diagnostic}")]
        public static partial void ReloadDiagnostic(ILogger logger, string diagnostic);

        [LoggerMessage(EventId = 103, Level = LogLevel.Error, Message = "Policy reload rejected; policy {Version} keeps serving")]
        public static partial void ReloadRejected(ILogger logger, string version);

        [LoggerMessage(EventId = 104, Level = LogLevel.Error, Message = "Policy reload failed; the last good policy keeps serving")]
        public static partial void ReloadFailed(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 114, Level = LogLevel.Information, Message = "Browser sign-in: {SignIn}; session keys in {Where}")]
        public static partial void SignInReady(ILogger logger, string signIn, string where);

        [LoggerMessage(EventId = 106, Level = LogLevel.Warning, Message = "assertion settings changed; restart the gateway to apply them (the current signing key stays in use)")]
        public static partial void AssertionChangeIgnored(ILogger logger);

        [LoggerMessage(EventId = 107, Level = LogLevel.Information, Message = "Management listener on {Address}")]
        public static partial void ManagementStarted(ILogger logger, string address);

        [LoggerMessage(EventId = 108, Level = LogLevel.Information, Message = "Traces exported by {Export}")]
        public static partial void TracesExported(ILogger logger, string export);

        [LoggerMessage(EventId = 109, Level = LogLevel.Warning, Message = "telemetry settings changed; restart the gateway to apply them")]
        public static partial void TelemetryChangeIgnored(ILogger logger);

        [LoggerMessage(EventId = 111, Level = LogLevel.Warning, Message = "Wrote {Count} rate-limited window(s) that the last run answered but had not yet audited")]
        public static partial void WindowsRecovered(ILogger logger, int count);

        [LoggerMessage(EventId = 113, Level = LogLevel.Information,
            Message = "Audit spool {Path} was not closed cleanly: {Count} line(s) not confirmed delivered were written to the sinks again")]
        public static partial void SpoolRecovered(ILogger logger, string path, int count);

        [LoggerMessage(EventId = 105, Level = LogLevel.Information, Message = "Segment {Segment} listening on {Addresses}")]
        public static partial void ListenerStarted(ILogger logger, string segment, string addresses);
    }
}
