using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace LlavaUhd.Edge.Messaging.Tests.Infrastructure;

/// <summary>A logger that keeps every formatted line (with its level), for tests that read what was logged.</summary>
public sealed class CapturingLogger<T> : ILogger<T>
{
    public ConcurrentQueue<(LogLevel Level, string Text)> Lines { get; } = new();

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        Lines.Enqueue((logLevel, formatter(state, exception)));
    }
}
