using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace ZtGateway.Tests.KeySets;

/// <summary>Every message logged through the loggers it provides, with its event id.</summary>
internal sealed class LoggedEvents : ILoggerProvider, ILogger
{
    private readonly ConcurrentQueue<(int EventId, string Message)> _events = new();

    /// <summary>The messages logged with <paramref name="eventId"/>.</summary>
    public IReadOnlyList<string> With(int eventId) => [.. _events.Where(e => e.EventId == eventId).Select(e => e.Message)];

    public ILogger CreateLogger(string categoryName) => this;

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        => _events.Enqueue((eventId.Id, formatter(state, exception)));

    public void Dispose()
    {
    }
}
