namespace ZtGateway.Hosting;

/// <summary>The process's log output: one line per event on the console, framework chatter kept to warnings.</summary>
internal static class ConsoleLogging
{
    public static ILoggerFactory Create(LogLevel level = LogLevel.Information) => LoggerFactory.Create(logging =>
    {
        logging.SetMinimumLevel(level);
        logging.AddFilter("Microsoft", LogLevel.Warning);
        logging.AddFilter("Yarp", LogLevel.Warning);
        // YARP logs every failed probe with its stack trace; ProbeHealthPolicy logs each change of state once.
        logging.AddFilter("Yarp.ReverseProxy.Health.ActiveHealthCheckMonitor", LogLevel.Error);
        // YARP logs every failed forward with its stack trace; each one is already an audit line
        // (upstream-unavailable or upstream-timeout), a metric (ztgw_upstream_failures_total) and, for a
        // destination that goes down, one health line.
        logging.AddFilter("Yarp.ReverseProxy.Forwarder.HttpForwarder", LogLevel.Error);
        // Hosting's per-request logger only writes request start/finish lines; left enabled at any level it makes
        // every request open a logging scope and an Activity even when nothing records them.
        logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
        // Standard output carries the audit trail; logs go to standard error.
        logging.AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace);
        logging.AddSimpleConsole(console =>
        {
            console.SingleLine = true;
            console.TimestampFormat = "HH:mm:ss ";
        });
    });
}
