using System.Net;
using LlmResilience.Doctor.Diagnosis;

namespace LlmResilience.Doctor.Cli;

/// <summary>What the command reads from and writes to: the process's console and environment, or a test's.</summary>
internal sealed class DoctorHost
{
    /// <summary>Gets where the report goes.</summary>
    public required TextWriter Out { get; init; }

    /// <summary>Gets where usage errors go.</summary>
    public required TextWriter Error { get; init; }

    /// <summary>Gets the environment (for <c>OPENAI_API_KEY</c>).</summary>
    public required Func<string, string?> Environment { get; init; }

    /// <summary>Gets the proxy HttpClient would use: <see cref="HttpClient.DefaultProxy"/> (HTTPS_PROXY, HTTP_PROXY, NO_PROXY) in the tool.</summary>
    public IWebProxy? Proxy { get; init; }

    /// <summary>Gets the environment variables that configured <see cref="Proxy"/>, such as "HTTPS_PROXY, NO_PROXY".</summary>
    public string? ProxySource { get; init; }

    /// <summary>Gets a value indicating whether a terminal is attached: then a spinner shows what the walk waits for.</summary>
    public bool Interactive { get; init; }

    /// <summary>Gets a hook that adjusts the settings the command line made (tests pin the resolver, the clock and the thresholds).</summary>
    public Func<DoctorSettings, DoctorSettings>? Adjust { get; init; }

    /// <summary>The process's own console, environment and default proxy.</summary>
    public static DoctorHost FromProcess()
    {
        // The variables HttpClient.DefaultProxy reads on Linux and macOS (Windows adds its system proxy settings to these).
        string[] variables = ["HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY"];
        var set = variables.Where(v => !string.IsNullOrEmpty(System.Environment.GetEnvironmentVariable(v) ?? System.Environment.GetEnvironmentVariable(v.ToLowerInvariant()))).ToList();
        var configured = set.Exists(v => v != "NO_PROXY") || OperatingSystem.IsWindows();
        return new DoctorHost
        {
            Out = Console.Out,
            Error = Console.Error,
            Environment = System.Environment.GetEnvironmentVariable,
            Proxy = configured ? HttpClient.DefaultProxy : null,
            ProxySource = set.Count > 0 ? string.Join(", ", set) : OperatingSystem.IsWindows() ? "the system proxy settings" : null,
            Interactive = !Console.IsOutputRedirected,
        };
    }
}
