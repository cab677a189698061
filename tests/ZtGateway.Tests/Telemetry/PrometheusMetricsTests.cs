using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging.Abstractions;
using ZtGateway.Audit;
using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Engine;
using ZtGateway.Telemetry;

namespace ZtGateway.Tests.Telemetry;

public sealed class PrometheusMetricsTests : IDisposable
{
    private readonly Meter _meter = new("ZtGateway.Tests.Prometheus." + Guid.NewGuid().ToString("N"));
    private readonly PrometheusMetrics _metrics;

    public PrometheusMetricsTests() => _metrics = new PrometheusMetrics(i => ReferenceEquals(i.Meter, _meter));

    public void Dispose()
    {
        _metrics.Dispose();
        _meter.Dispose();
    }

    private string[] Lines() => _metrics.Render().Split('\n', StringSplitOptions.RemoveEmptyEntries);

    [Fact]
    public void Counter_IsTotalled_PerLabelSet_WithTheTotalSuffix()
    {
        var counter = _meter.CreateCounter<long>("ztgw.decisions", "{decision}", "Decisions taken");

        counter.Add(1, new KeyValuePair<string, object?>("ztgw.reason", "allowed"));
        counter.Add(2, new KeyValuePair<string, object?>("ztgw.reason", "allowed"));
        counter.Add(1, new KeyValuePair<string, object?>("ztgw.reason", "token-missing"));

        Assert.Equal(
        [
            "# HELP ztgw_decisions_total Decisions taken",
            "# TYPE ztgw_decisions_total counter",
            "ztgw_decisions_total{ztgw_reason=\"allowed\"} 3",
            "ztgw_decisions_total{ztgw_reason=\"token-missing\"} 1",
        ], Lines());
    }

    [Fact]
    public void Labels_AreSortedByName_EmptyValuesLeftOut_AndValuesEscaped()
    {
        var counter = _meter.CreateCounter<long>("c");

        counter.Add(1, new KeyValuePair<string, object?>("z", "a\"b\\c\nd"), new KeyValuePair<string, object?>("a.b", "x"),
            new KeyValuePair<string, object?>("empty", ""), new KeyValuePair<string, object?>("none", null));

        Assert.Contains("c_total{a_b=\"x\",z=\"a\\\"b\\\\c\\nd\"} 1", Lines());
    }

    [Fact]
    public void TagSets_ThatRenderTheSameLabels_ShareOneSeries_WhateverTheirOrderOrValueType()
    {
        var counter = _meter.CreateCounter<long>("c");

        for (var i = 0; i < 3; i++)
        {
            counter.Add(1, new KeyValuePair<string, object?>("a", "x"), new KeyValuePair<string, object?>("n", 7));
            counter.Add(10, new KeyValuePair<string, object?>("n", 7L), new KeyValuePair<string, object?>("a", "x"));
            counter.Add(100, new KeyValuePair<string, object?>("a", "y"), new KeyValuePair<string, object?>("n", 7));
        }

        Assert.Equal(["# TYPE c_total counter", "c_total{a=\"x\",n=\"7\"} 33", "c_total{a=\"y\",n=\"7\"} 300"], Lines());
    }

    [Fact]
    public void Histogram_HasCumulativeBuckets_FromItsAdvice_WithSumAndCount()
    {
        var histogram = _meter.CreateHistogram("ztgw.decision.duration", "s", "Time to decide", tags: null,
            new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.01, 0.1] });

        histogram.Record(0.0005);
        histogram.Record(0.001);
        histogram.Record(0.05);
        histogram.Record(3);

        Assert.Equal(
        [
            "# HELP ztgw_decision_duration_seconds Time to decide",
            "# TYPE ztgw_decision_duration_seconds histogram",
            "ztgw_decision_duration_seconds_bucket{le=\"0.001\"} 2",
            "ztgw_decision_duration_seconds_bucket{le=\"0.01\"} 2",
            "ztgw_decision_duration_seconds_bucket{le=\"0.1\"} 3",
            "ztgw_decision_duration_seconds_bucket{le=\"+Inf\"} 4",
            "ztgw_decision_duration_seconds_sum 3.0515",
            "ztgw_decision_duration_seconds_count 4",
        ], Lines());
    }

    [Fact]
    public void Histogram_LabelsComeBeforeLe()
    {
        var histogram = _meter.CreateHistogram<double>("h", unit: null, description: null, tags: null,
            new InstrumentAdvice<double> { HistogramBucketBoundaries = [1] });

        histogram.Record(0.5, new KeyValuePair<string, object?>("segment", "hr"));

        Assert.Contains("h_bucket{segment=\"hr\",le=\"1\"} 1", Lines());
        Assert.Contains("h_count{segment=\"hr\"} 1", Lines());
    }

    [Fact]
    public void UpDownCounter_IsAGauge()
    {
        var gauge = _meter.CreateUpDownCounter<int>("ztgw.inflight");

        gauge.Add(3);
        gauge.Add(-1);

        Assert.Equal(["# TYPE ztgw_inflight gauge", "ztgw_inflight 2"], Lines());
    }

    [Fact]
    public void InstrumentsOfOtherMeters_AreNotShown()
    {
        using var other = new Meter("ZtGateway.Tests.Other");
        other.CreateCounter<long>("other").Add(1);

        Assert.Empty(_metrics.Render());
    }

    [Theory]
    [InlineData("ztgw.decisions", null, true, "ztgw_decisions_total")]
    [InlineData("ztgw.decision.duration", "s", false, "ztgw_decision_duration_seconds")]
    [InlineData("requests_total", null, true, "requests_total")]
    [InlineData("9lives", null, false, "_lives")]
    [InlineData("a-b/c", "By", false, "a_b_c_bytes")]
    public void MetricName_FollowsThePrometheusConventions(string name, string? unit, bool counter, string expected) =>
        Assert.Equal(expected, PrometheusMetrics.MetricName(name, unit, counter));

    [Fact]
    public void GatewayTelemetry_ShowsItsOwnDecisions_AndAuditSinkFailures()
    {
        using var telemetry = GatewayTelemetry.Create(new TelemetrySettings(), "hr", _ => null, [AuditTrail.MeterName]);
        var sink = "broken-" + Guid.NewGuid().ToString("N")[..8];
        using var audit = new AuditTrail([new BrokenSink(sink, "disk gone")], auditAllows: true, NullLogger.Instance);
        var decision = new Decision { Allowed = false, Reason = ReasonCode.MfaRequired, DestinationSegment = "hr", SourceSegment = "hr", RouteId = "payroll" };

        telemetry.Decided(span: null, decision, "d-1", TimeSpan.FromMilliseconds(2));
        audit.Record(new AuditEvent
        {
            Time = DateTimeOffset.UnixEpoch, DecisionId = "d-1", TraceId = new string('0', 32), Decision = decision, Reason = decision.Reason,
            Method = "GET", Path = "/payroll/x", StatusCode = 401, PolicyVersion = "v",
        });

        var lines = telemetry.Metrics.Render().Split('\n');
        Assert.Contains("ztgw_decisions_total{ztgw_decision=\"step-up\",ztgw_reason=\"mfa-required\",ztgw_route=\"payroll\",ztgw_segment_dst=\"hr\",ztgw_segment_src=\"hr\"} 1", lines);
        Assert.Contains("ztgw_decision_duration_seconds_bucket{ztgw_decision=\"step-up\",ztgw_segment_dst=\"hr\",le=\"0.0025\"} 1", lines);
        Assert.Contains($"ztgw_audit_failures_total{{sink=\"{sink}\"}} 1", lines);
    }

    [Fact]
    public void TwoGateways_InOneProcess_CountOnlyTheirOwnDecisions()
    {
        using var first = GatewayTelemetry.Create(new TelemetrySettings(), "hr", _ => null);
        using var second = GatewayTelemetry.Create(new TelemetrySettings(), "hr", _ => null);
        var decision = new Decision { Allowed = true, Reason = ReasonCode.Allowed, DestinationSegment = "hr", SourceSegment = "hr", RouteId = "r" };

        first.Decided(null, decision, "d-1", TimeSpan.Zero);

        Assert.Contains("ztgw_decisions_total{", first.Metrics.Render(), StringComparison.Ordinal);
        Assert.DoesNotContain("ztgw_decisions_total{", second.Metrics.Render(), StringComparison.Ordinal);
    }
}
