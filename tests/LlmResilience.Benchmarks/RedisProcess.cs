using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace LlmResilience.Benchmarks;

/// <summary>
/// A redis-server of the benchmark's own (Debian's <c>/usr/bin/redis-server</c>) on a free 127.0.0.1 port: no
/// persistence, a temporary directory, killed by its PID when disposed (also after a failure), and also when the
/// benchmark is stopped by SIGINT (Ctrl+C), SIGTERM, SIGQUIT or SIGHUP; not after a SIGKILL: its PID is printed for that case.
/// </summary>
internal sealed class RedisProcess : IAsyncDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("llmbench-redis-").FullName;
    private readonly List<string> _output = [];
    private readonly List<PosixSignalRegistration> _signals = [];
    private Process? _process;
    private int _stopped;

    private RedisProcess(int port) => Port = port;

    public static string? ExecutablePath { get; } =
        new[] { "/usr/bin/redis-server", "/usr/local/bin/redis-server" }.FirstOrDefault(File.Exists);

    public static string MissingMessage =>
        "--redis needs redis-server, which is not installed: install it with `apt-get install redis-server` (Debian/Ubuntu; " +
        "the benchmark starts its own server on a free port, the system service need not run), then run this again.";

    public int Port { get; }

    /// <summary>The StackExchange.Redis configuration string of this server.</summary>
    public string Configuration => "127.0.0.1:" + Port.ToString(CultureInfo.InvariantCulture);

    public int ProcessId => _process?.Id ?? 0;

    public static async Task<RedisProcess> StartAsync()
    {
        var server = new RedisProcess(FreePort());
        try
        {
            await server.StartProcessAsync();
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    private async Task StartProcessAsync()
    {
        var start = new ProcessStartInfo(ExecutablePath ?? throw new InvalidOperationException(MissingMessage))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "--port", Port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", _directory })
        {
            start.ArgumentList.Add(argument);
        }

        _process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start.");
        // The handlers kill the server, then let the signal end the benchmark as it would have.
        foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGQUIT, PosixSignal.SIGHUP })
        {
            _signals.Add(PosixSignalRegistration.Create(signal, _ => Stop()));
        }

        AppDomain.CurrentDomain.ProcessExit += OnExit;
        _process.OutputDataReceived += Collect;
        _process.ErrorDataReceived += Collect;
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        // Until it accepts connections (it loads nothing: no persistence).
        var deadline = Stopwatch.GetTimestamp() + (10 * Stopwatch.Frequency);
        while (true)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException) when (Stopwatch.GetTimestamp() < deadline && !_process.HasExited)
            {
                await Task.Delay(20);
            }
            catch (SocketException exception)
            {
                string output;
                lock (_output)
                {
                    output = string.Join(Environment.NewLine, _output.TakeLast(20));
                }

                throw new InvalidOperationException(
                    (_process.HasExited ? $"redis-server exited with code {_process.ExitCode}" : "redis-server did not accept connections within 10 s") +
                    $" on port {Port}. Its output:{Environment.NewLine}{output}", exception);
            }
        }
    }

    private void Collect(object sender, DataReceivedEventArgs e)
    {
        if (e.Data is { } line)
        {
            lock (_output)
            {
                _output.Add(line);
            }
        }
    }

    private void OnExit(object? sender, EventArgs e) => Stop();

    /// <summary>Kills the server (once), by its PID, and deletes its directory.</summary>
    private void Stop()
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }

        try
        {
            if (_process is { HasExited: false } process)
            {
                process.Kill();
                process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // it had exited already
        }

        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // a file still held: left in the temp directory
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public ValueTask DisposeAsync()
    {
        Stop();
        foreach (var signal in _signals)
        {
            signal.Dispose();
        }

        AppDomain.CurrentDomain.ProcessExit -= OnExit;
        _process?.Dispose();
        return ValueTask.CompletedTask;
    }
}
