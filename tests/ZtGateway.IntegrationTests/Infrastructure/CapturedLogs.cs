using Microsoft.Extensions.Logging;

namespace ZtGateway.IntegrationTests.Infrastructure;

/// <summary>Keeps the log lines of a gateway in memory, so that a test can see what it reported.</summary>
public sealed class CapturedLogs : ILoggerProvider
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

    /// <summary>A logger factory that writes here, from <paramref name="level"/> up.</summary>
    public ILoggerFactory Factory(LogLevel level = LogLevel.Information) =>
        LoggerFactory.Create(l => l.SetMinimumLevel(level).AddProvider(this));

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, this);

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

    private sealed class Logger(string category, CapturedLogs owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Add($"{logLevel} {eventId.Id} {category}: {formatter(state, exception)}");
    }
}
