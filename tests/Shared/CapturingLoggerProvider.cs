using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace LlmResilience.Tests.Shared;

/// <summary>Records every log line (formatted message and structured values), at every level, for assertions.</summary>
internal sealed class CapturingLoggerProvider : ILoggerProvider, ILoggerFactory
{
    public ConcurrentQueue<LogEntry> Entries { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }

    public string AllText() => string.Join("\n", Entries.Select(e => e.Message + " " + string.Join(",", e.State.Select(kv => $"{kv.Key}={kv.Value}"))));

    public sealed record LogEntry(string Category, LogLevel Level, EventId EventId, string Message, IReadOnlyList<KeyValuePair<string, object?>> State);

    private sealed class Logger(CapturingLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            // Copied now: some states (ASP.NET Core hosting's) read their values from the HttpContext, gone after the request.
            KeyValuePair<string, object?>[] values = state is IReadOnlyList<KeyValuePair<string, object?>> list ? [.. list] : [];
            owner.Entries.Enqueue(new LogEntry(category, logLevel, eventId, formatter(state, exception) + (exception is null ? string.Empty : " " + exception), values));
        }
    }
}
