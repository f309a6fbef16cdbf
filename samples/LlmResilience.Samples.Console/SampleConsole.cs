using Microsoft.Extensions.Logging;

/// <summary>
/// The sample's console: its own output and the library's log lines, written in order and never into the middle of a
/// line. A streamed answer is written piece by piece on one line; log lines that arrive while that line is open are
/// held back and printed, each on a line of its own, once the answer's line is complete. (The console logger of
/// Microsoft.Extensions.Logging writes from a background thread and would split the answer.)
/// </summary>
internal sealed class SampleConsole : ILoggerProvider
{
    private readonly Lock _gate = new();
    private readonly List<string> _held = [];
    private string? _pendingPrefix;
    private bool _lineOpen;

    /// <summary>Writes a complete line.</summary>
    public void WriteLine(string text = "")
    {
        lock (_gate)
        {
            Console.WriteLine(text);
        }
    }

    /// <summary>Starts a streamed line: <paramref name="prefix"/> is written with the first piece, so that log lines about
    /// attempts that failed before any output still print above the answer, in the order they happened.</summary>
    public void BeginStream(string prefix)
    {
        lock (_gate)
        {
            _pendingPrefix = prefix;
        }
    }

    /// <summary>Writes one piece of the streamed line.</summary>
    public void Write(string? piece)
    {
        if (string.IsNullOrEmpty(piece))
        {
            return;
        }

        lock (_gate)
        {
            if (!_lineOpen)
            {
                Console.Write(_pendingPrefix);
                _lineOpen = true;
            }

            Console.Write(piece);
        }
    }

    /// <summary>Ends the streamed line with <paramref name="suffix"/>, then prints the log lines held back meanwhile.</summary>
    public void EndStream(string suffix)
    {
        lock (_gate)
        {
            if (!_lineOpen)
            {
                Console.Write(_pendingPrefix);
            }

            Console.WriteLine(suffix);
            _lineOpen = false;
            _pendingPrefix = null;
            foreach (var line in _held)
            {
                Console.WriteLine(line);
            }

            _held.Clear();
        }
    }

    /// <inheritdoc />
    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    /// <inheritdoc />
    public void Dispose()
    {
    }

    private void Log(string line)
    {
        lock (_gate)
        {
            if (_lineOpen)
            {
                _held.Add(line);
            }
            else
            {
                Console.WriteLine(line);
            }
        }
    }

    private sealed class Logger(SampleConsole console, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            var level = logLevel switch
            {
                LogLevel.Trace => "trce",
                LogLevel.Debug => "dbug",
                LogLevel.Information => "info",
                LogLevel.Warning => "warn",
                LogLevel.Error => "fail",
                _ => "crit",
            };
            console.Log($"{DateTime.Now:HH:mm:ss.fff} {level}: {category}[{eventId.Id}] {formatter(state, exception)}");
        }
    }
}
