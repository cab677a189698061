using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;
using ZtGateway.Enforcement.Resilience;

namespace ZtGateway.Tests.Resilience;

/// <summary>Active health probes log a change of state once, in one line without a stack trace, and nothing else.</summary>
public sealed class ProbeHealthPolicyTests
{
    private readonly ClusterState _cluster = new("svc-payroll");
    private readonly DestinationState _destination = new("payroll-0");
    private readonly Updater _updater = new();
    private readonly Lines _log = new();

    private ProbeHealthPolicy Policy() => new(_updater, _log);

    private void Probe(ProbeHealthPolicy policy, DestinationProbingResult result)
    {
        policy.ProbingCompleted(_cluster, [result]);
        _destination.Health.Active = _updater.Last;
    }

    private DestinationProbingResult Refused() =>
        new(_destination, null, new HttpRequestException("Connection refused (127.0.0.1:7102)", new SocketException((int)SocketError.ConnectionRefused)));

    private DestinationProbingResult Ok() => new(_destination, new HttpResponseMessage(HttpStatusCode.OK), null);

    [Fact]
    public void FailingProbes_MakeTheDestinationUnhealthy_WithOneLineAndNoStackTrace()
    {
        var policy = Policy();
        Probe(policy, Ok());
        for (var i = 0; i < 10; i++)
        {
            Probe(policy, Refused());
        }

        Assert.Equal(DestinationHealth.Unhealthy, _destination.Health.Active);
        var line = Assert.Single(_log.Entries);
        Assert.Equal(LogLevel.Warning, line.Level);
        Assert.Null(line.Exception);
        Assert.Equal("Upstream svc-payroll/payroll-0 is now unhealthy (was Healthy): Connection refused (127.0.0.1:7102)", line.Message);
        Assert.DoesNotContain('\n', line.Message);
    }

    [Fact]
    public void OneFailedProbe_ChangesNothing_AndRecoveryIsOneLine()
    {
        var policy = Policy();
        Probe(policy, Ok());
        Probe(policy, Refused());
        Assert.Equal(DestinationHealth.Healthy, _destination.Health.Active);
        Assert.Empty(_log.Entries);

        Probe(policy, Refused());
        Probe(policy, new DestinationProbingResult(_destination, new HttpResponseMessage(HttpStatusCode.ServiceUnavailable), null));
        Probe(policy, Ok());
        Probe(policy, Ok());

        Assert.Equal(DestinationHealth.Healthy, _destination.Health.Active);
        Assert.Collection(
            _log.Entries,
            e => Assert.Equal(LogLevel.Warning, e.Level),
            e => Assert.Equal("Upstream svc-payroll/payroll-0 is healthy again (was Unhealthy)", e.Message));
    }

    [Fact]
    public void ErrorStatusAndTimeouts_AreNamedInOneLine()
    {
        Assert.Equal("HTTP 503", ProbeHealthPolicy.Problem(new DestinationProbingResult(_destination, new HttpResponseMessage(HttpStatusCode.ServiceUnavailable), null)));
        Assert.Equal("probe timed out", ProbeHealthPolicy.Problem(new DestinationProbingResult(_destination, null, new TaskCanceledException("The request was canceled"))));
        Assert.Equal("first", ProbeHealthPolicy.Problem(new DestinationProbingResult(_destination, null, new InvalidOperationException("first\nsecond"))));
        Assert.Null(ProbeHealthPolicy.Problem(Ok()));
    }

    private sealed class Updater : IDestinationHealthUpdater
    {
        public DestinationHealth Last { get; private set; }

        public void SetActive(ClusterState cluster, IEnumerable<NewActiveDestinationHealth> newHealthStates) =>
            Last = newHealthStates.Single().NewActiveHealth;

        public void SetPassive(ClusterState cluster, DestinationState destination, DestinationHealth newHealth, TimeSpan reactivationPeriod) =>
            throw new NotSupportedException();
    }

    private sealed class Lines : ILogger<ProbeHealthPolicy>
    {
        public List<(LogLevel Level, string Message, Exception? Exception)> Entries { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Entries.Add((logLevel, formatter(state, exception), exception));
    }
}
