using System.Collections.Concurrent;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace ZtGateway.Enforcement.Resilience;

/// <summary>
/// Active health checks of upstream destinations: a destination is unhealthy after <see cref="FailureThreshold"/>
/// failed probes in a row and healthy again after one good probe. A change of state is one log line (destination,
/// old and new state, the error's one-line message); a probe that changes nothing logs nothing, and an expected
/// network error never logs a stack trace.
/// </summary>
internal sealed partial class ProbeHealthPolicy : IActiveHealthCheckPolicy
{
    /// <summary>The policy name clusters refer to.</summary>
    public const string PolicyName = "ztgw-consecutive-failures";

    /// <summary>Failed probes in a row that take a destination out.</summary>
    public const int FailureThreshold = 2;

    private readonly IDestinationHealthUpdater _updater;
    private readonly ILogger<ProbeHealthPolicy> _logger;
    private readonly ConcurrentDictionary<DestinationState, int> _failures = new();

    public ProbeHealthPolicy(IDestinationHealthUpdater updater, ILogger<ProbeHealthPolicy> logger)
    {
        ArgumentNullException.ThrowIfNull(updater);
        ArgumentNullException.ThrowIfNull(logger);
        _updater = updater;
        _logger = logger;
    }

    public string Name => PolicyName;

    public void ProbingCompleted(ClusterState cluster, IReadOnlyList<DestinationProbingResult> probingResults)
    {
        if (probingResults.Count == 0)
        {
            return;
        }

        var states = new NewActiveDestinationHealth[probingResults.Count];
        for (var i = 0; i < probingResults.Count; i++)
        {
            var result = probingResults[i];
            var destination = result.Destination;
            var problem = Problem(result);
            var failures = problem is null ? 0 : _failures.AddOrUpdate(destination, 1, static (_, n) => n + 1);
            if (problem is null)
            {
                _failures.TryRemove(destination, out _);
            }

            var before = destination.Health.Active;
            var after = problem is null ? DestinationHealth.Healthy
                : failures >= FailureThreshold ? DestinationHealth.Unhealthy
                : before == DestinationHealth.Unknown ? DestinationHealth.Unknown : before;
            if (after != before && after != DestinationHealth.Unknown)
            {
                if (after == DestinationHealth.Unhealthy)
                {
                    Log.BecameUnhealthy(_logger, cluster.ClusterId, destination.DestinationId, before.ToString(), problem!);
                }
                else if (before == DestinationHealth.Unhealthy)
                {
                    Log.BecameHealthy(_logger, cluster.ClusterId, destination.DestinationId, before.ToString());
                }
            }

            states[i] = new NewActiveDestinationHealth(destination, after);
        }

        _updater.SetActive(cluster, states);
    }

    // Null for a good probe; else the one-line reason.
    internal static string? Problem(DestinationProbingResult result)
    {
        if (result.Exception is { } exception)
        {
            var root = exception;
            while (root is AggregateException { InnerException: { } inner })
            {
                root = inner;
            }

            var message = root is TaskCanceledException or TimeoutException ? "probe timed out" : root.Message;
            return OneLine(message);
        }

        if (result.Response is { IsSuccessStatusCode: false } response)
        {
            return $"HTTP {(int)response.StatusCode}";
        }

        return result.Response is null ? "no response" : null;
    }

    private static string OneLine(string message)
    {
        var end = message.AsSpan().IndexOfAny('\r', '\n');
        return end < 0 ? message : message[..end];
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1201, Level = LogLevel.Warning,
            Message = "Upstream {Cluster}/{Destination} is now unhealthy (was {Before}): {Problem}")]
        public static partial void BecameUnhealthy(ILogger logger, string cluster, string destination, string before, string problem);

        [LoggerMessage(EventId = 1202, Level = LogLevel.Information,
            Message = "Upstream {Cluster}/{Destination} is healthy again (was {Before})")]
        public static partial void BecameHealthy(ILogger logger, string cluster, string destination, string before);
    }
}
