using System.Diagnostics;
using System.Diagnostics.Metrics;
using OpenTelemetry;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Engine;

namespace ZtGateway.Telemetry;

/// <summary>
/// The gateway's traces and metrics, one per process (per <see cref="Hosting.GatewayHost"/>): the
/// <c>ztgw.decision</c> span, the <c>ztgw.*</c> instruments, the tracer provider that exports the spans of every
/// listener through one OTLP pipeline, and the collector behind <c>/metrics</c>. Settings are read at start;
/// changing <c>telemetry:</c> needs a restart.
/// </summary>
internal sealed class GatewayTelemetry : IDisposable
{
    /// <summary>Name of the gateway's ActivitySource and Meter.</summary>
    public const string Name = "ZtGateway";

    public const string DecisionSpanName = "ztgw.decision";

    // Decisions take microseconds (engine) to milliseconds (a key fetch); the default buckets start at 5 s.
    private static readonly double[] DecisionBuckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

    private static readonly ActivitySource Source = new(Name);

    private readonly Meter _meter;
    private readonly Counter<long> _decisions;
    private readonly Histogram<double> _decisionDuration;
    private readonly Counter<long> _upstreamFailures;
    private readonly Counter<long> _upstreamRetries;
    private readonly TracerProvider? _tracing;

    private GatewayTelemetry(TelemetrySettings settings, TelemetryExport? export, string servedSegments, IReadOnlyCollection<string> processMeters)
    {
        Settings = settings;
        Export = export;

        // One Meter per gateway, so /metrics shows this gateway's counts even when several share a process (tests).
        _meter = new Meter(Name);
        _decisions = _meter.CreateCounter<long>("ztgw.decisions", "{decision}",
            "Decisions taken, by source and destination segment, route, outcome and reason");
        _decisionDuration = _meter.CreateHistogram("ztgw.decision.duration", "s",
            "Time from request to decision: token, device assertion and policy", tags: null,
            new InstrumentAdvice<double> { HistogramBucketBoundaries = DecisionBuckets });
        _upstreamFailures = _meter.CreateCounter<long>("ztgw.upstream.failures", "{attempt}",
            "Forwarding attempts that failed, by segment, service and error");
        _upstreamRetries = _meter.CreateCounter<long>("ztgw.upstream.retries", "{attempt}",
            "Idempotent requests sent again to another destination after a connection failure");
        Metrics = new PrometheusMetrics(instrument => ReferenceEquals(instrument.Meter, _meter) || processMeters.Contains(instrument.Meter.Name));

        if (export is not null)
        {
            _tracing = Sdk.CreateTracerProviderBuilder()
                .SetResourceBuilder(ResourceBuilder.CreateDefault()
                    .AddService(settings.ServiceName)
                    .AddAttributes([new KeyValuePair<string, object>("ztgw.segments", servedSegments)]))
                // Every decision is traced, whatever the caller's traceparent says about sampling; its trace id is kept.
                .SetSampler(new AlwaysOnSampler())
                .AddSource(Name)
                .AddAspNetCoreInstrumentation(options => options.Filter = IsTraced)
                .AddHttpClientInstrumentation(options => options.FilterHttpRequestMessage = _ => IsWithinRequest())
                .AddOtlpExporter(options =>
                {
                    if (export.Endpoint is not null)
                    {
                        options.Endpoint = export.Endpoint;
                        options.Protocol = export.Protocol!.Value;
                    }
                })
                .Build();
        }
    }

    /// <summary>The settings this process started with.</summary>
    public TelemetrySettings Settings { get; }

    /// <summary>Where spans go; null when they are not exported.</summary>
    public TelemetryExport? Export { get; }

    /// <summary>The in-process view of the <c>ztgw.*</c> instruments, rendered by <c>/metrics</c>.</summary>
    public PrometheusMetrics Metrics { get; }

    /// <summary>Sets up telemetry from the policy's <c>telemetry:</c> section and the process environment.</summary>
    /// <param name="settings">The policy's <c>telemetry:</c> section.</param>
    /// <param name="servedSegments">The segments this process serves, for the resource attributes.</param>
    /// <param name="environment">Reads the process environment (OTLP settings); null reads the real one.</param>
    /// <param name="processMeters">Names of process-wide meters that <c>/metrics</c> shows beside this gateway's own
    /// (the host passes the audit trail's); none by default.</param>
    public static GatewayTelemetry Create(TelemetrySettings settings, string servedSegments, Func<string, string?>? environment = null,
        IReadOnlyCollection<string>? processMeters = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(servedSegments);
        var export = TelemetryExport.Resolve(settings, environment ?? Environment.GetEnvironmentVariable);
        return new GatewayTelemetry(settings, export, servedSegments, processMeters ?? []);
    }

    /// <summary>
    /// Starts the <c>ztgw.decision</c> span as a child of the current request activity; null when nobody listens.
    /// Stop it (or dispose it) once the decision is taken, so that it does not cover the forwarding.
    /// </summary>
    public static Activity? StartDecision() => Source.StartActivity(DecisionSpanName, ActivityKind.Internal);

    /// <summary>Puts the decision on its span and counts it.</summary>
    public void Decided(Activity? span, Decision decision, string decisionId, TimeSpan elapsed)
    {
        ArgumentNullException.ThrowIfNull(decision);
        var outcome = Outcome(decision);
        var reason = decision.Reason.ToCode();
        if (span is { IsAllDataRequested: true })
        {
            span.SetTag(TelemetryTags.SourceSegment, NullIfEmpty(decision.SourceSegment));
            span.SetTag(TelemetryTags.DestinationSegment, decision.DestinationSegment);
            span.SetTag(TelemetryTags.Route, decision.RouteId);
            span.SetTag(TelemetryTags.Rule, decision.RuleName);
            span.SetTag(TelemetryTags.Decision, outcome);
            span.SetTag(TelemetryTags.Reason, reason);
            span.SetTag(TelemetryTags.DecisionId, decisionId);
        }

        _decisions.Add(1, new TagList
        {
            { TelemetryTags.SourceSegment, decision.SourceSegment },
            { TelemetryTags.DestinationSegment, decision.DestinationSegment },
            { TelemetryTags.Route, decision.RouteId ?? string.Empty },
            { TelemetryTags.Decision, outcome },
            { TelemetryTags.Reason, reason },
        });
        _decisionDuration.Record(elapsed.TotalSeconds, new TagList
        {
            { TelemetryTags.DestinationSegment, decision.DestinationSegment },
            { TelemetryTags.Decision, outcome },
        });
    }

    /// <summary>
    /// Puts a 429 <c>rate-limited</c> answer on its span and counts it in <c>ztgw.decisions</c>, one by one like any
    /// decision, although its audit line is shared with the other answers of its window.
    /// </summary>
    public void RateLimited(Activity? span, string segment, string decisionId)
    {
        var reason = ReasonCode.RateLimited.ToCode();
        if (span is { IsAllDataRequested: true })
        {
            span.SetTag(TelemetryTags.DestinationSegment, segment);
            span.SetTag(TelemetryTags.Decision, "deny");
            span.SetTag(TelemetryTags.Reason, reason);
            span.SetTag(TelemetryTags.DecisionId, decisionId);
        }

        _decisions.Add(1, new TagList
        {
            { TelemetryTags.SourceSegment, string.Empty },
            { TelemetryTags.DestinationSegment, segment },
            { TelemetryTags.Route, string.Empty },
            { TelemetryTags.Decision, "deny" },
            { TelemetryTags.Reason, reason },
        });
    }

    /// <summary>Counts one failed forwarding attempt (<paramref name="error"/>: connect, timeout, circuit-open, ...).</summary>
    public void UpstreamFailed(string segment, string service, string error) => _upstreamFailures.Add(1, new TagList
    {
        { TelemetryTags.DestinationSegment, segment },
        { TelemetryTags.Service, service },
        { TelemetryTags.UpstreamError, error },
    });

    /// <summary>Counts one attempt sent again to another destination.</summary>
    public void UpstreamRetried(string segment, string service) => _upstreamRetries.Add(1, new TagList
    {
        { TelemetryTags.DestinationSegment, segment },
        { TelemetryTags.Service, service },
    });

    /// <summary>Exports the spans ended so far; true when done within the timeout or when nothing is exported.</summary>
    public bool ForceFlush(int timeoutMilliseconds = 5000) => _tracing?.ForceFlush(timeoutMilliseconds) ?? true;

    /// <summary>The <c>ztgw.decision</c> value: allow, deny, or step-up (the caller may succeed after re-authenticating).</summary>
    public static string Outcome(Decision decision)
    {
        ArgumentNullException.ThrowIfNull(decision);
        if (decision.Allowed)
        {
            return "allow";
        }

        return decision.Reason is ReasonCode.MfaRequired or ReasonCode.AuthTooOld or ReasonCode.AcrInsufficient ? "step-up" : "deny";
    }

    public void Dispose()
    {
        // Disposing the provider flushes what is still queued.
        _tracing?.Dispose();
        Metrics.Dispose();
        _meter.Dispose();
    }

    // Probes and scrapes of the management listener would drown the request traces.
    private static bool IsTraced(HttpContext context) => context.RequestServices.GetService(typeof(UntracedListener)) is null;

    // Client spans only inside a request: YARP's active health probes have no parent and are not worth a trace each.
    private static bool IsWithinRequest() => Activity.Current?.Parent is not null;

    private static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;
}

/// <summary>Registered in a listener whose requests are not traced (the management listener).</summary>
internal sealed class UntracedListener
{
    public static UntracedListener Instance { get; } = new();
}
