using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.Json;
using LlmResilience.Tests.Shared;

namespace LlmResilience.Tests.Redis;

/// <summary>
/// One instance of a fleet as its own OS process: tests/LlmResilience.Tests.FleetInstance, built beside this project
/// (a ProjectReference that references no assembly) and run with the <c>dotnet</c> that runs the tests. It prints
/// <c>ready</c>, calls on <see cref="Go"/>, and prints one JSON line of results.
/// </summary>
internal sealed class FleetProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _errors = new();

    private FleetProcess(Process process)
    {
        _process = process;
        _process.ErrorDataReceived += (_, e) =>
        {
            lock (_errors)
            {
                _errors.AppendLine(e.Data);
            }
        };
        _process.BeginErrorReadLine();
    }

    /// <summary>The worker's dll, built in the same configuration as this test assembly.</summary>
    public static string DllPath { get; } = Path.Combine(RepositoryPaths.Root(), "tests", "LlmResilience.Tests.FleetInstance", "bin",
        typeof(FleetProcess).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Release", "net10.0",
        "LlmResilience.Tests.FleetInstance.dll");

    // The dotnet that runs the tests: the SDK sets DOTNET_HOST_PATH; a testhost run by `dotnet testhost.dll` is dotnet itself.
    private static string DotnetPath =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host
        : Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet" ? Environment.ProcessPath!
        : "dotnet";

    private string Errors
    {
        get
        {
            lock (_errors)
            {
                return _errors.ToString();
            }
        }
    }

    /// <summary>Starts an instance; <paramref name="redis"/> <see langword="null"/> for one that paces alone.</summary>
    public static FleetProcess Start(Uri baseUrl, string apiKey, int requestsPerMinute, string? redis, int calls, int workers, Uri? warmUpUrl = null)
    {
        Assert.True(File.Exists(DllPath), $"The fleet instance is not built at {DllPath}: build the solution, or tests/LlmResilience.Tests (it builds the instance first).");
        var start = new ProcessStartInfo(DotnetPath)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(DllPath);
        foreach (var (name, value) in new (string, string?)[]
        {
            ("--base-url", baseUrl.ToString()), ("--api-key", apiKey), ("--rpm", Invariant(requestsPerMinute)), ("--redis", redis),
            ("--calls", Invariant(calls)), ("--workers", Invariant(workers)), ("--warm-up-url", warmUpUrl?.ToString()), ("--timeout-seconds", "30"),
        })
        {
            if (value is not null)
            {
                start.ArgumentList.Add(name);
                start.ArgumentList.Add(value);
            }
        }

        return new FleetProcess(Process.Start(start)!);
    }

    /// <summary>Waits for the instance's <c>ready</c> (with Redis: connected and sharing).</summary>
    public async Task WaitReadyAsync(TimeSpan timeout)
    {
        var line = await ReadLineAsync(timeout, "ready");
        Assert.True(line == "ready", $"The fleet instance said '{line}' instead of 'ready'. {Errors}");
    }

    /// <summary>Lets the instance start calling.</summary>
    public void Go()
    {
        _process.StandardInput.WriteLine("go");
        _process.StandardInput.Flush();
    }

    /// <summary>The instance's result line, once it finished (and exited 0).</summary>
    public async Task<FleetResult> ResultAsync(TimeSpan timeout)
    {
        var line = await ReadLineAsync(timeout, "its result");
        using var json = JsonDocument.Parse(line);
        var root = json.RootElement;
        var result = new FleetResult(
            root.GetProperty("succeeded").GetInt32(),
            root.GetProperty("failed").GetInt32(),
            root.GetProperty("failures").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt32()),
            TimeSpan.FromMilliseconds(root.GetProperty("elapsedMs").GetDouble()),
            root.GetProperty("shared").GetBoolean(),
            root.GetProperty("endedWhileLocal").GetInt32(),
            root.GetProperty("warnings").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt32()),
            [.. root.GetProperty("log").EnumerateArray().Select(e => e.GetString()!)]);
        using var exit = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(exit.Token);
        Assert.True(_process.ExitCode == 0, $"The fleet instance exited with {_process.ExitCode}. {Errors}");
        return result;
    }

    private async Task<string> ReadLineAsync(TimeSpan timeout, string what)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            return await _process.StandardOutput.ReadLineAsync(cancel.Token)
                ?? throw new InvalidOperationException($"The fleet instance ended (exit code {(_process.HasExited ? _process.ExitCode : -1)}) before {what}. {Errors}");
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"The fleet instance did not print {what} within {timeout.TotalSeconds:0} s. {Errors}");
        }
    }

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}

/// <summary>
/// What one fleet instance reported: its calls' outcomes (failures by <see cref="LlmFailureKind"/>), whether it still
/// shared through Redis at the end and how many calls ended while it did not, and the warnings it logged during the calls
/// (a fall back to local state is <c>RedisUnavailable</c>); <see cref="Log"/> holds the first few warnings of the whole run in full.
/// </summary>
internal sealed record FleetResult(int Succeeded, int Failed, IReadOnlyDictionary<string, int> Failures, TimeSpan Elapsed, bool Shared, int EndedWhileLocal,
    IReadOnlyDictionary<string, int> Warnings, IReadOnlyList<string> Log);
