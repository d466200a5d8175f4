using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Spherelet.Tests.Images.Registry;

/// <summary>Keeps every log line (level and formatted message) for assertions.</summary>
internal sealed class CapturingLogger<T> : ILogger<T>
{
    public ConcurrentQueue<(LogLevel Level, string Message)> Lines { get; } = new();

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        Lines.Enqueue((logLevel, formatter(state, exception)));
    }

    public int Count(LogLevel level, string startsWith) => Lines.Count(l => l.Level == level && l.Message.StartsWith(startsWith, StringComparison.Ordinal));
}
