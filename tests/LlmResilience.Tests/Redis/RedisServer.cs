using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace LlmResilience.Tests.Redis;

/// <summary>
/// A test that needs Debian's redis-server: skipped with the install command when it is missing, unless
/// <c>LLMRESILIENCE_REQUIRE_SYSTEM_DEPS=1</c> (set by .ci/run), when the test runs and fails.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class RedisFactAttribute : FactAttribute
{
    public RedisFactAttribute()
    {
        if (RedisServer.ExecutablePath is null && !RedisServer.Required)
        {
            Skip = RedisServer.MissingMessage;
        }
    }
}

/// <summary>A redis-server process of the test's own on a free 127.0.0.1 port: no persistence, a temporary directory, stopped by its PID.</summary>
internal sealed class RedisServer : IAsyncDisposable
{
    public const string RequireVariable = "LLMRESILIENCE_REQUIRE_SYSTEM_DEPS";

    private readonly string _directory = Directory.CreateTempSubdirectory("llmresilience-redis-").FullName;
    private Process? _process;

    private RedisServer(int port) => Port = port;

    public static string? ExecutablePath { get; } =
        new[] { "/usr/bin/redis-server", "/usr/local/bin/redis-server" }.FirstOrDefault(File.Exists);

    public static bool Required => Environment.GetEnvironmentVariable(RequireVariable) == "1";

    public static string MissingMessage =>
        "redis-server is not installed: install it with `apt-get install redis-server` (Debian) to run the Redis coordination tests. " +
        $"They are skipped without it, and fail instead when {RequireVariable}=1.";

    public int Port { get; }

    /// <summary>The StackExchange.Redis configuration string of this server.</summary>
    public string Configuration => $"127.0.0.1:{Port}";

    public int? ProcessId => _process is { HasExited: false } process ? process.Id : null;

    public static async Task<RedisServer> StartAsync()
    {
        Assert.True(ExecutablePath is not null, MissingMessage);
        var server = new RedisServer(FreePort());
        await server.StartProcessAsync();
        return server;
    }

    /// <summary>Kills the server by its PID, as an outage would.</summary>
    public void Kill()
    {
        _process!.Kill();
        _process.WaitForExit();
    }

    /// <summary>Starts it again on the same port (empty: it kept nothing).</summary>
    public Task RestartAsync() => StartProcessAsync();

    private async Task StartProcessAsync()
    {
        var start = new ProcessStartInfo(ExecutablePath!)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", _directory })
        {
            start.ArgumentList.Add(argument);
        }

        _process = Process.Start(start)!;
        _process.OutputDataReceived += static (_, _) => { };
        _process.ErrorDataReceived += static (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline && !_process.HasExited)
            {
                await Task.Delay(10);
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill();
            await process.WaitForExitAsync();
        }

        _process?.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>
/// The Redis tests run one after another, and alone (after the tests that run in parallel): each starts its own
/// redis-server, the timing ones need the cores, and the cost test counts the whole process's allocations.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RedisCollection
{
    public const string Name = "Redis";
}
