using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace LlmResilience.Tests.FleetInstance;

/// <summary>Keeps the event name and message of every warning or error (such as RedisUnavailable, the fall back to local state), for the result line.</summary>
internal sealed class WarningLog : ILoggerProvider
{
    private const int Kept = 20;
    private int _count;

    public ConcurrentQueue<string> Lines { get; } = new();

    /// <summary>How many warnings or errors each event logged.</summary>
    public ConcurrentDictionary<string, int> Counts { get; } = new(StringComparer.Ordinal);

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void Dispose()
    {
    }

    private sealed class Logger(WarningLog owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            var name = eventId.Name ?? eventId.Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
            owner.Counts.AddOrUpdate(name, 1, static (_, count) => count + 1);
            // The first few in full; a run that logs hundreds only counts the rest.
            if (Interlocked.Increment(ref owner._count) <= Kept)
            {
                owner.Lines.Enqueue($"{logLevel} {name}: {formatter(state, exception)}");
            }
        }
    }
}
