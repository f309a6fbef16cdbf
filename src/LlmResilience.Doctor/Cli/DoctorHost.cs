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

    /// <summary>Gets a value indicating whether a terminal is attached: then a spinner shows what the walk waits for.</summary>
    public bool Interactive { get; init; }

    /// <summary>Gets a hook that adjusts the settings the command line made (tests pin the resolver, the clock and the thresholds).</summary>
    public Func<DoctorSettings, DoctorSettings>? Adjust { get; init; }

    /// <summary>The process's own console, environment and default proxy.</summary>
    public static DoctorHost FromProcess() => new()
    {
        Out = Console.Out,
        Error = Console.Error,
        Environment = System.Environment.GetEnvironmentVariable,
        Proxy = HttpClient.DefaultProxy,
        Interactive = !Console.IsOutputRedirected,
    };
}
